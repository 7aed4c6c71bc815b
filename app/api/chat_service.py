"""The chat seam: a ChatSession (agent.chat) for one user's thread, over one checkpointer
opened on first use and shared by the process. The API never reaches further into the
agent than ChatDeps, build_chat_graph, ChatSession and toolbox_for.

The saver's tables are made at start-up (`prepare`), not in a request; callers end their
request's database transaction before they use a ChatSession (routes/chat.py), so neither
the saver nor the graph's tools ever wait on a transaction of the request that runs them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from sqlalchemy import Engine

from agent.chat import ChatDeps, ChatSession, build_chat_graph
from agent.toolbox.execute import OUTCOME_TEXT, outcome_of
from agent.untrusted import message_text
from app import wiring
from app.settings import Settings
from tools.access import Actor


class ChatService:
    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        model_factory: Callable[[], Any],
        checkpointer: Any = None,
    ) -> None:
        self.settings, self.engine, self.model_factory = settings, engine, model_factory
        self._checkpointer = checkpointer
        self._stack = ExitStack()
        self._lock = threading.Lock()
        self._graphs: dict[Actor, tuple[Any, ChatDeps]] = {}
        self._memory: Any = None

    def checkpointer(self) -> Any:
        with self._lock:
            if self._checkpointer is None:
                self._checkpointer = self._stack.enter_context(wiring.checkpointer(self.settings))
            return self._checkpointer

    def prepare(self) -> None:
        """Make the saver's tables now (the API's start-up), on a connection of its own."""
        if self._checkpointer is None:
            wiring.prepare_checkpointer(self.settings)

    def close(self) -> None:
        self._stack.close()

    def memory(self) -> Any:
        """Long-term memory for the chat's search tools, when the practice has a store."""
        from memory.retrieval import Retriever

        with self._lock:
            if self._memory is None and wiring.memory_configured(self.settings):
                store = wiring.open_memory_store(self.settings)
                self._memory = Retriever(store=store, engine=self.engine)
            return self._memory

    def _compiled(self, actor: Actor) -> tuple[Any, ChatDeps]:
        saver = self.checkpointer()
        memory = self.memory()
        with self._lock:
            found = self._graphs.get(actor)
            if found is None:
                deps = wiring.chat_deps(
                    self.settings,
                    engine=self.engine,
                    actor=actor,
                    model=self.model_factory(),
                    memory=memory,
                )
                found = (build_chat_graph(deps).compile(checkpointer=saver), deps)
                self._graphs[actor] = found
            return found

    def session(self, actor: Actor, thread_id: str) -> ChatSession:
        graph, deps = self._compiled(actor)
        return ChatSession(graph, deps, thread_id)


def transcript(chat: ChatSession) -> list[dict[str, Any]]:
    """The thread's messages for display: what the user said, Steve's replies, and which
    tools ran (tool output is data for the model, not shown)."""
    state = chat.graph.get_state(chat.config)
    out: list[dict[str, Any]] = []
    for m in state.values.get("messages") or []:
        if isinstance(m, HumanMessage):
            out.append({"role": "user", "text": message_text(m.content)})
        elif isinstance(m, AIMessage):
            text = message_text(m.content)
            if text:
                out.append({"role": "assistant", "text": text})
            for call in m.tool_calls:
                out.append({"role": "tool_call", "tool": call["name"]})
        elif isinstance(m, ToolMessage):
            out.append({"role": "tool_result", **tool_record(m)})
    return out


def turn_record(turn: Any) -> dict[str, Any]:
    return {
        "reply": turn.reply,
        "approvals": [approval_record(a) for a in turn.approvals],
        "tools": [tool_record(r) for r in turn.tool_results],
    }


def tool_record(result: ToolMessage) -> dict[str, Any]:
    """Which tool ran and what came of it: ok only when it did what was asked (a rejected
    or refused write did nothing); `result` says so in words."""
    outcome = outcome_of(result)
    return {
        "tool": result.name,
        "ok": outcome == "done",
        "outcome": outcome,
        "result": OUTCOME_TEXT[outcome],
    }


def approval_record(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a.get(k) for k in ("tool_call_id", "tool", "args", "summary", "edited", "note")}
