"""A scripted chat model for tests: replies come from a queue, every prompt is kept."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
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
