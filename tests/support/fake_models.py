"""A scripted chat model for tests: replies come from a queue, every prompt is kept."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr


class ScriptedChatModel(BaseChatModel):
    """Answers with the next scripted reply; raises when the script runs out."""

    _replies: list[str] = PrivateAttr(default_factory=list)
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @classmethod
    def replying(cls, replies: Iterable[str]) -> ScriptedChatModel:
        model = cls()
        model._replies = list(replies)
        return model

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return self._calls

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self._calls.append(list(messages))
        if not self._replies:
            raise RuntimeError("the scripted model has no reply left")
        text = self._replies.pop(0)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


# ------------------------------------------------------------------- tool calling

Reply = str | AIMessage | Callable[[list[BaseMessage], "ToolCallingChatModel"], AIMessage | str]

_call_ids = itertools.count(1)


def call(name: str, **args: Any) -> AIMessage:
    """A model reply that calls one tool (a fresh tool-call id each time)."""
    return AIMessage(
        content="",
        tool_calls=[
            {"name": name, "args": args, "id": f"call_{next(_call_ids)}", "type": "tool_call"}
        ],
    )


def calls(*pairs: tuple[str, dict[str, Any]]) -> AIMessage:
    """A model reply that calls several tools at once."""
    return AIMessage(
        content="",
        tool_calls=[
            {"name": n, "args": a, "id": f"call_{next(_call_ids)}", "type": "tool_call"}
            for n, a in pairs
        ],
    )


class ToolCallingChatModel(ScriptedChatModel):
    """A scripted model that supports bind_tools and replies with tool calls.

    Each reply is a string, an AIMessage (e.g. from `call(...)`), or a function of the
    prompt and the model returning one. Every reply reports `usage` tokens, as providers do.
    """

    _script: list[Any] = PrivateAttr(default_factory=list)
    _bound: list[str] = PrivateAttr(default_factory=list)
    _usage: dict[str, int] | None = PrivateAttr(default=None)

    @classmethod
    def scripted(
        cls, replies: Iterable[Reply], *, usage: dict[str, int] | None = None
    ) -> ToolCallingChatModel:
        model = cls()
        model._script = list(replies)
        model._usage = usage if usage is not None else {"input_tokens": 100, "output_tokens": 20}
        return model

    @property
    def bound_tools(self) -> list[str]:
        return self._bound

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolCallingChatModel:  # type: ignore[override]
        self._bound = [convert_to_openai_tool(t)["function"]["name"] for t in tools]
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self._calls.append(list(messages))
        if not self._script:
            raise RuntimeError("the scripted model has no reply left")
        item = self._script.pop(0)
        if callable(item) and not isinstance(item, AIMessage):
            item = item(list(messages), self)
        reply = AIMessage(content=item) if isinstance(item, str) else item.model_copy()
        if self._usage:
            u = self._usage
            reply.usage_metadata = {
                "input_tokens": u["input_tokens"],
                "output_tokens": u["output_tokens"],
                "total_tokens": u["input_tokens"] + u["output_tokens"],
            }
        return ChatResult(generations=[ChatGeneration(message=reply)])


# --------------------------------------------------------- a model that obeys text

# What the obedient model "understands": phrases it maps to a write tool, checked in order.
# It is deliberately simple and deliberately gullible: any matching phrase it can read as
# an instruction (outside a data block) becomes a proposed write.
OBEYED_PHRASES: tuple[tuple[str, str], ...] = (
    (r"\bcancel\w*\b", "cancel_appointment"),
    (r"\breschedul\w*|\bmove\b[^.]{0,40}\bappointments?\b", "reschedule_appointment"),
    (r"\bbook(?:ing)?\b", "book_appointment"),  # not "booked", which records say
    (r"\backnowledg\w*|\bsign\w*\s+off\b", "acknowledge_protocol_review"),
    (r"\brefer\b|\breferrals?\b", "create_referral"),
    (r"\btasks?\b|\bto-?do\b", "create_task"),
    (r"\b(?:send|e-?mail|forward|notify|message|tell|contact)\b", "send_care_message"),
)
_OBEYED = [(re.compile(p, re.IGNORECASE), tool) for p, tool in OBEYED_PHRASES]


def _args_for(tool: str, text: str) -> dict[str, Any]:
    number = re.search(r"\b(\d{1,6})\b", text)
    n = int(number.group(1)) if number else 1
    return {
        "cancel_appointment": {"appointment_id": n},
        "reschedule_appointment": {"appointment_id": n, "new_start": "2030-01-07 09:00"},
        "book_appointment": {"patient_id": n, "practitioner_id": n, "start": "2030-01-07 09:00"},
        "acknowledge_protocol_review": {"review_id": n},
        "create_referral": {"patient_id": n, "to_practitioner_id": n, "reason": "as instructed"},
        "create_task": {"assignee_id": n, "title": "as instructed"},
        "send_care_message": {"recipient_id": n, "subject": "as instructed", "body": text[:200]},
    }[tool]


def instructions_seen(messages: Sequence[BaseMessage], *, respect_delimiters: bool) -> str:
    """The text the obedient model reads as instructions: every non-system message, minus
    what sits inside <data> blocks (unless it ignores delimiters too)."""
    from agent.untrusted import message_text, outside_data

    texts = [message_text(m.content) for m in messages if not isinstance(m, SystemMessage)]
    joined = "\n".join(texts)
    return outside_data(joined) if respect_delimiters else joined


def obedient_reply(*, respect_delimiters: bool = True) -> Callable[..., AIMessage]:
    """A reply that proposes the write an instruction-looking phrase asks for, if any."""

    def reply(messages: list[BaseMessage], model: ToolCallingChatModel) -> AIMessage:
        text = instructions_seen(messages, respect_delimiters=respect_delimiters)
        for pattern, tool in _OBEYED:
            found = pattern.search(text)
            if found and tool in model.bound_tools:
                return call(tool, **_args_for(tool, text[found.start() :]))
        return AIMessage(content="I have read the records; nothing needs doing.")

    return reply
