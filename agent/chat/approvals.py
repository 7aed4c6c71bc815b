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
from sqlmodel import Session, func, select

from agent.chat.state import Approval
from agent.toolbox import Toolbox
from agent.toolbox.arguments import authorise, refused_patient, resolve
from agent.toolbox.context import ToolSpec
from agent.toolbox.execute import Runtime, args_digest, validation_message
from db.models import ToolCallAudit
from tools.access import AccessDenied
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


class _Refused(Exception):
    """An access denial while reviewing a write, with the patient it was for."""

    def __init__(self, denial: AccessDenied, patient_id: int | None) -> None:
        super().__init__(str(denial))
        self.denial, self.patient_id = denial, patient_id


def review(
    session: Session, toolbox: Toolbox, runtime: Runtime, spec: ToolSpec, args: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """The validated arguments of a write and their exact description.

    Access is decided on the validated values BEFORE anything is described, so a refused
    call (or edit) never shows a name or a date of birth. Raises ValidationError, _Refused
    (the denial is in `session`, for the caller to commit or not) or the tool's own errors.
    """
    assert spec.preview is not None
    actor, entity = toolbox.actor, f"tool:{spec.name}"
    checked = resolve(session=session, spec=spec, args=args)
    try:
        authorise(session=session, actor=actor, spec=spec, checked=checked, entity=entity)
    except AccessDenied as exc:
        raise _Refused(
            exc, refused_patient(session=session, actor=actor, checked=checked)
        ) from None
    return checked.values, spec.preview(runtime.context(session, toolbox.actor), checked.values)


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
        with Session(runtime.engine) as session:
            try:  # every write waits for a person: its exact description is what they approve
                args, summary = review(
                    session, toolbox, runtime, spec, dict(call.get("args") or {})
                )
            except _Refused:
                decisions[call_id] = "refused"  # refused (and audited) with its reason when it runs
                continue
            except ValidationError as exc:
                decisions[call_id] = "invalid: " + validation_message(exc)
                continue
            except (SteveError, KeyError, TypeError) as exc:
                decisions[call_id] = "invalid: " + (
                    exc.display() if isinstance(exc, SteveError) else "missing or wrong arguments"
                )
                continue
            finally:
                session.rollback()  # reviewing only reads
        pending.append(Approval(tool_call_id=call_id, tool=spec.name, args=args, summary=summary))
    return pending, decisions


def _audit_refused_edit(
    session: Session,
    toolbox: Toolbox,
    spec: ToolSpec,
    refused: _Refused,
    where: tuple[str, str, int],
    proposed: dict[str, Any],
) -> None:
    """Record a refused edit once: `ask` re-runs on every resume and meets the same answers
    again, so the n-th refusal for a call is written only if fewer than n are recorded."""
    thread_id, call_id, nth = where
    same = (
        (ToolCallAudit.thread_id == (thread_id[:100] or None))
        & (ToolCallAudit.tool_call_id == (call_id[:100] or None))
        & (ToolCallAudit.decision == "edit")
        & (ToolCallAudit.outcome == "denied")
    )
    recorded = session.exec(select(func.count()).select_from(ToolCallAudit).where(same)).one()
    if recorded >= nth:
        session.rollback()  # drops this replay's copy of the access-denied event too
        return
    actor = toolbox.actor
    session.add(
        ToolCallAudit(
            actor_id=actor.practitioner_id,
            role=actor.role.value,
            tool=spec.name[:60],
            kind=spec.kind,
            patient_id=refused.patient_id,
            args_digest=args_digest(proposed),
            decision="edit",
            outcome="denied",
            thread_id=thread_id[:100] or None,
            tool_call_id=call_id[:100] or None,
        )
    )
    session.commit()


def ask(
    toolbox: Toolbox, runtime: Runtime, item: Approval, *, thread_id: str = ""
) -> tuple[str, dict[str, Any]]:
    """Pause until a person decides on one write; returns (decision, final arguments).

    Runs inside a graph node: on resume the node runs again and each interrupt() returns
    its answer in order, so this must do the same reads and asks each time.
    """
    spec = toolbox.get(item["tool"])
    assert spec is not None
    args, summary, note, edited = dict(item["args"]), item["summary"], None, False
    refusals = 0
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
        with Session(runtime.engine) as session:
            try:
                new_args, new_summary = review(session, toolbox, runtime, spec, proposed)
            except _Refused as exc:
                refusals += 1
                where = (thread_id, item["tool_call_id"], refusals)
                _audit_refused_edit(session, toolbox, spec, exc, where, proposed)
                # ids only: nothing about the refused patient is described
                note = f"That edit was refused (access denied): {exc.denial}"
                continue
            except ValidationError as exc:
                note = "That edit was not valid: " + validation_message(exc)
                continue
            except SteveError as exc:
                note = "That edit was not valid: " + exc.display()
                continue
            finally:
                session.rollback()
        args, summary, edited, note = new_args, new_summary, True, None


def with_edits(reply: AIMessage, edits: dict[str, dict[str, Any]]) -> AIMessage:
    """The model's reply with edited arguments, same id, so the transcript shows what ran."""
    calls: list[ToolCall] = [
        {**c, "args": edits[str(c.get("id"))]} if str(c.get("id")) in edits else c
        for c in reply.tool_calls
    ]
    extra = {k: v for k, v in reply.additional_kwargs.items() if k != "tool_calls"}
    return reply.model_copy(update={"tool_calls": calls, "additional_kwargs": extra})
