"""Human approval of write tools: what a person sees, and what they may answer.

`plan` runs once per model reply and describes each proposed write exactly (names, local
times, the text of a message) from the arguments it will run with. `ask` pauses the graph
with a LangGraph interrupt per write; the answer is approve, reject or edit (new arguments,
shown again for approval before anything runs). Interrupts live in the checkpointer, so a
decision can come from another process after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, ToolCall
from langgraph.types import interrupt
from pydantic import ValidationError
from sqlmodel import Session

from agent.state import Approval
from agent.toolbox import Toolbox
from agent.toolbox.context import ToolContext, ToolSpec
from agent.toolbox.execute import Runtime, validation_message
from tools.access import AccessDenied, require
from tools.errors import SteveError

DecisionKind = Literal["approve", "reject", "edit"]
_ALIASES = {
    "y": "approve",
    "yes": "approve",
    "approved": "approve",
    "n": "reject",
    "no": "reject",
    "rejected": "reject",
    "e": "edit",
    "edited": "edit",
}


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    args: dict[str, Any] = field(default_factory=dict)  # edit: the arguments to change
    tool_call_id: str | None = None  # when given, must name the action being asked about


def parse_decision(value: Any) -> Decision:
    """A resume value: 'approve' / 'reject', or {"decision": ..., "args": {...}, ...}."""
    if isinstance(value, Decision):
        return value
    if isinstance(value, str):
        value = {"decision": value}
    if not isinstance(value, dict):
        return Decision("reject")  # anything unreadable is a refusal, never a yes
    kind = str(value.get("decision", "")).strip().lower()
    kind = _ALIASES.get(kind, kind)
    if kind not in ("approve", "reject", "edit"):
        return Decision("reject")
    args = value.get("args") if isinstance(value.get("args"), dict) else {}
    call_id = value.get("tool_call_id")
    return Decision(kind, dict(args or {}), str(call_id) if call_id else None)  # type: ignore[arg-type]


def _context(session: Session, toolbox: Toolbox, runtime: Runtime) -> ToolContext:
    return ToolContext(
        session=session,
        actor=toolbox.actor,
        tz=runtime.tz,
        now=runtime.clock(),
        limits=runtime.limits,
        memory=runtime.memory,
    )


def describe(toolbox: Toolbox, runtime: Runtime, spec: ToolSpec, args: dict[str, Any]) -> str:
    """The exact description of a write (raises the tool's own errors for bad arguments)."""
    assert spec.preview is not None
    spec.tool.tool_call_schema.model_validate(args)  # type: ignore[union-attr]
    with Session(runtime.engine) as session:
        try:
            return spec.preview(_context(session, toolbox, runtime), args)
        finally:
            session.rollback()  # a preview only reads


def plan(toolbox: Toolbox, runtime: Runtime, reply: AIMessage) -> tuple[list[Approval], dict]:
    """Approvals to ask for, and decisions already made (reads, refusals)."""
    pending: list[Approval] = []
    decisions: dict[str, str] = {}
    for call in reply.tool_calls:
        call_id = str(call.get("id") or "")
        spec = toolbox.get(call["name"])
        if spec is None or spec.kind == "read":
            decisions[call_id] = "not_needed"
            continue
        args = dict(call.get("args") or {})
        with Session(runtime.engine) as session:
            try:
                # Checked again (and audited) when the call runs; here only to not ask in vain.
                require(
                    session=session,
                    actor=toolbox.actor,
                    needs=spec.needs,
                    patient_id=spec.patient_of(session, args),
                )
            except (AccessDenied, SteveError, KeyError, TypeError):
                decisions[call_id] = "refused"  # refused with its reason when it runs
                continue
            finally:
                session.rollback()
        try:  # every write waits for a person: its exact description is what they approve
            summary = describe(toolbox, runtime, spec, args)
        except ValidationError as exc:
            decisions[call_id] = "invalid: " + validation_message(exc)
            continue
        except (SteveError, KeyError, TypeError) as exc:
            decisions[call_id] = "invalid: " + (
                exc.display() if isinstance(exc, SteveError) else "missing or wrong arguments"
            )
            continue
        pending.append(Approval(tool_call_id=call_id, tool=spec.name, args=args, summary=summary))
    return pending, decisions


def ask(toolbox: Toolbox, runtime: Runtime, item: Approval) -> tuple[str, dict[str, Any]]:
    """Pause until a person decides on one write; returns (decision, final arguments).

    Runs inside a graph node: on resume the node runs again and each interrupt() returns
    its answer in order, so this must do the same reads and asks each time.
    """
    spec = toolbox.get(item["tool"])
    assert spec is not None
    args, summary, note, edited = dict(item["args"]), item["summary"], None, False
    while True:
        question = {**item, "args": args, "summary": summary, "edited": edited}
        if note:
            question["note"] = note
        answer = parse_decision(interrupt(question))
        if answer.tool_call_id and answer.tool_call_id != item["tool_call_id"]:
            return "rejected", args  # an answer meant for another action never approves this one
        if answer.kind == "approve":
            return ("edited" if edited else "approved"), args
        if answer.kind == "reject":
            return "rejected", args
        proposed = {**args, **answer.args}
        try:
            summary = describe(toolbox, runtime, spec, proposed)
        except ValidationError as exc:
            note = "That edit was not valid: " + validation_message(exc)
            continue
        except SteveError as exc:
            note = "That edit was not valid: " + exc.display()
            continue
        args, edited, note = proposed, True, None


def with_edits(reply: AIMessage, edits: dict[str, dict[str, Any]]) -> AIMessage:
    """The model's reply with edited arguments, same id, so the transcript shows what ran."""
    calls: list[ToolCall] = [
        {**c, "args": edits[str(c.get("id"))]} if str(c.get("id")) in edits else c
        for c in reply.tool_calls
    ]
    extra = {k: v for k, v in reply.additional_kwargs.items() if k != "tool_calls"}
    return reply.model_copy(update={"tool_calls": calls, "additional_kwargs": extra})
