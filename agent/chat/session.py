"""One user's conversation on one thread: send a message, answer an approval, recover.

The compiled graph and its checkpointer hold the state; this class only drives them, so a
new process (a new ChatSession over the same checkpointer) picks up where the last one
stopped: an approval still waiting, or a turn cut short after an approved write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from agent.chat.graph import ChatDeps
from agent.untrusted import message_text
from prompts.loader import load_prompt
from tools.access import AccessDenied
from tools.errors import InvalidInput

OnText = Callable[[str], None]


@dataclass
class Turn:
    """What a turn left behind: the assistant's reply and any approvals it waits for."""

    reply: str | None
    approvals: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[ToolMessage] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return bool(self.approvals)


class ChatSession:
    def __init__(self, graph: Any, deps: ChatDeps, thread_id: str) -> None:
        self.graph = graph  # compiled, with a checkpointer
        self.deps = deps
        self.thread_id = thread_id
        self.user_id = deps.toolbox.actor.practitioner_id

    @property
    def config(self) -> dict[str, Any]:
        return {
            "configurable": {"thread_id": self.thread_id},
            "recursion_limit": self.deps.recursion_limit,
        }

    def _state(self) -> Any:
        state = self.graph.get_state(self.config)
        owner = state.values.get("user_id")
        if owner is not None and owner != self.user_id:
            # Threads are private: the id alone must not open someone else's conversation.
            raise AccessDenied("this conversation belongs to another user")
        return state

    def pending(self) -> list[dict[str, Any]]:
        """The approvals the thread is waiting for (one at a time, in order)."""
        return [dict(i.value) for i in self._state().interrupts]

    def interrupted(self) -> bool:
        """A turn cut short (e.g. a crash after an approved write) that can be resumed."""
        state = self._state()
        return bool(state.next) and not state.interrupts

    def send(self, text: str, on_text: OnText | None = None) -> Turn:
        if not text.strip():
            raise InvalidInput("say something to Steve")
        if self.pending():
            raise InvalidInput("an action is waiting for your approval; approve, edit or reject it")
        start = {"messages": [HumanMessage(text)], "user_id": self.user_id}
        return self._run(start, on_text)

    def decide(self, decision: Any, on_text: OnText | None = None) -> Turn:
        """Answer the waiting approval: 'approve', 'reject' or {"decision": "edit", "args"}."""
        if not self.pending():
            raise InvalidInput("nothing is waiting for approval in this conversation")
        return self._run(Command(resume=decision), on_text)

    def resume(self, on_text: OnText | None = None) -> Turn:
        """Finish a turn that a crash cut short (approved writes are not repeated)."""
        if not self.interrupted():
            return self._turn([])
        return self._run(None, on_text)

    def _run(self, graph_input: Any, on_text: OnText | None) -> Turn:
        results: list[ToolMessage] = []
        try:
            for mode, chunk in self.graph.stream(
                graph_input, self.config, stream_mode=["messages", "updates"]
            ):
                if mode == "messages":
                    message, meta = chunk
                    if (
                        on_text
                        and meta.get("langgraph_node") == "agent"
                        and isinstance(message, AIMessageChunk | AIMessage)
                    ):
                        piece = message_text(message.content)
                        if piece:
                            on_text(piece)
                elif mode == "updates" and isinstance(chunk, dict):
                    update = chunk.get("tools")
                    if isinstance(update, dict):
                        results.extend(update.get("messages", []))
        except GraphRecursionError:
            text = load_prompt("chat_step_limit").format(limit=self.deps.recursion_limit)
            return Turn(reply=text.strip(), tool_results=results)
        return self._turn(results)

    def _turn(self, results: list[ToolMessage]) -> Turn:
        state = self._state()
        approvals = [dict(i.value) for i in state.interrupts]
        messages = state.values.get("messages") or []
        last = messages[-1] if messages else None
        reply = None
        if isinstance(last, AIMessage) and not last.tool_calls:
            reply = message_text(last.content)
        return Turn(reply=reply, approvals=approvals, tool_results=results)
