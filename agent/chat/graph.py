"""The chat graph: a tool-calling loop in which every write waits for a person's approval.

    START -> agent -> (tool calls?) -> prepare -> approve -> tools -> agent ... -> END

- agent: one model call over the conversation (system prompt from prompts/chat_system.md),
  or a clear message with no model call (no model configured, daily budget used up).
- prepare: describes each proposed write exactly; decides which need no approval.
- approve: one LangGraph interrupt per write; approve, reject or edit.
- tools: runs the calls (agent.toolbox.execute): access checked, writes exactly once, audited.

`build_chat_graph` returns the uncompiled builder; the caller compiles it with a
checkpointer (tests: InMemorySaver; the CLI: agent.chat.checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from sqlmodel import Session

from agent.chat import budget
from agent.chat.approvals import ask, plan, with_edits
from agent.chat.state import ChatState
from agent.toolbox import Toolbox
from agent.toolbox.execute import Runtime, execute
from prompts.loader import load_prompt
from tools.clock import today_in

# Supersteps one more tool round needs after a model reply: prepare, approve, tools, agent.
STEPS_PER_ROUND = 4


@dataclass(frozen=True)
class ChatDeps:
    """Everything the graph's nodes use; the acting user is the toolbox's actor."""

    model: BaseChatModel | None
    toolbox: Toolbox
    runtime: Runtime
    daily_token_budget: int = 0  # 0: no cap
    recursion_limit: int = 25  # for the step-limit message (the limit itself is in config)


def _last_reply(state: ChatState) -> AIMessage | None:
    messages = state.get("messages") or []
    last = messages[-1] if messages else None
    return last if isinstance(last, AIMessage) else None


def system_prompt(deps: ChatDeps) -> str:
    actor, rt = deps.toolbox.actor, deps.runtime
    today = today_in(rt.tz, rt.clock())
    # Trusted context composed here, from the server's own values.
    context = (
        f"You are talking to practitioner {actor.practitioner_id} ({actor.role.value}, "
        f"{actor.discipline.value}). Today is {today.isoformat()} ({rt.tz.key})."
    )
    return load_prompt("chat_system").rstrip() + "\n\n" + context


def build_chat_graph(deps: ChatDeps) -> StateGraph:
    """The chat graph for one user (their role decided the toolbox); compile it to run."""
    nodes = _Nodes(deps)
    graph = StateGraph(ChatState)
    graph.add_node("agent", nodes.agent)
    graph.add_node("prepare", nodes.prepare)
    graph.add_node("approve", nodes.approve)
    graph.add_node("tools", nodes.tools)
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", nodes.route, ["prepare", END])
    graph.add_edge("prepare", "approve")
    graph.add_edge("approve", "tools")
    graph.add_edge("tools", "agent")
    return graph


class _Nodes:
    """The graph's nodes over one user's dependencies (see the module docstring)."""

    def __init__(self, deps: ChatDeps) -> None:
        self.deps = deps
        self.toolbox, self.runtime = deps.toolbox, deps.runtime
        self.user = deps.toolbox.actor.practitioner_id
        tools = deps.toolbox.tools
        self.bound = deps.model.bind_tools(tools) if deps.model is not None and tools else None

    def agent(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        deps, runtime = self.deps, self.runtime
        if deps.model is None:
            return {"messages": [AIMessage(load_prompt("chat_no_model").strip())]}
        day = today_in(runtime.tz, runtime.clock())
        over = self._over_budget(day)
        if over is not None:
            return {"messages": [over]}
        model = self.bound or deps.model
        reply = model.invoke([SystemMessage(system_prompt(deps)), *state["messages"]], config)
        assert isinstance(reply, AIMessage)
        with Session(runtime.engine) as session:
            budget.record_usage(
                session=session, practitioner_id=self.user, day=day, usage=reply.usage_metadata
            )  # type: ignore[arg-type]
            session.commit()
        if reply.tool_calls and state.get("remaining_steps", 99) <= STEPS_PER_ROUND:
            text = load_prompt("chat_step_limit").format(limit=deps.recursion_limit).strip()
            return {"messages": [AIMessage(text, id=reply.id)]}
        return {"messages": [reply]}

    def _over_budget(self, day: date) -> AIMessage | None:
        """The message that says today's token budget is used up, or None while it is not."""
        cap = self.deps.daily_token_budget
        if not cap:  # no cap configured: nothing to count
            return None
        with Session(self.runtime.engine) as session:
            used = budget.used_on(session=session, practitioner_id=self.user, day=day)
        if used < cap:
            return None
        return AIMessage(load_prompt("chat_over_budget").format(budget=cap, used=used).strip())

    def route(self, state: ChatState) -> str:
        reply = _last_reply(state)
        return "prepare" if reply is not None and reply.tool_calls else END

    def prepare(self, state: ChatState) -> dict[str, Any]:
        reply = _last_reply(state)
        assert reply is not None
        pending, decisions = plan(self.toolbox, self.runtime, reply)
        return {"pending": pending, "decisions": decisions}

    def approve(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        decisions = dict(state.get("decisions") or {})
        edits: dict[str, dict[str, Any]] = {}
        thread_id = str(config.get("configurable", {}).get("thread_id", ""))
        for item in state.get("pending") or []:
            decision, args = ask(self.toolbox, self.runtime, item, thread_id=thread_id)
            decisions[item["tool_call_id"]] = decision
            if decision == "edited":
                edits[item["tool_call_id"]] = args
        update: dict[str, Any] = {"decisions": decisions, "pending": []}
        reply = _last_reply(state)
        if edits and reply is not None:
            update["messages"] = [with_edits(reply, edits)]
        return update

    def tools(self, state: ChatState, config: RunnableConfig) -> dict[str, Any]:
        reply = _last_reply(state)
        assert reply is not None
        decisions = state.get("decisions") or {}
        thread_id = str(config.get("configurable", {}).get("thread_id", ""))
        results = [
            execute(
                toolbox=self.toolbox,
                runtime=self.runtime,
                call=call,
                thread_id=thread_id,
                decision=decisions.get(str(call.get("id")), "pending"),
            )
            for call in reply.tool_calls
        ]
        return {"messages": results, "decisions": {}}
