"""Running one tool call: access check, exactly-once writes, the audit row, the data block.

The arguments are validated against the tool's schema first; access is decided on the
validated values and the records they name, and the tool runs with exactly those values
(agent.toolbox.arguments). The audit row names the patient, refusals included.

Each call is one transaction. A write first claims its idempotency key (thread id + tool call
id) in `tool_execution`, then runs, then stores its result on the claim, and commits all of
that with the audit rows at once. If the process dies after that commit but before the graph
saved its checkpoint, the resumed graph runs this node again, finds the key and replays the
stored result: the approved action runs exactly once. Two processes resuming the same
approval race on the key's primary key; the loser replays.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from langchain_core.messages import ToolCall, ToolMessage
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from agent.toolbox import Toolbox
from agent.toolbox.arguments import (
    Checked,
    attempted_patient,
    authorise,
    refused_patient,
    resolve,
)
from agent.toolbox.context import MemorySearch, ToolContext, ToolSpec
from agent.untrusted import tool_result
from db.engine import utcnow
from db.faults import fault
from db.models import ToolCallAudit, ToolExecution
from tools.access import AccessDenied, Actor
from tools.errors import SteveError
from tools.practice_limits import PracticeLimits

log = logging.getLogger(__name__)

APPROVED = ("approved", "edited", "not_needed")
REJECTED_TEXT = "The user rejected this action, so nothing was done. Do not retry it unless asked."


@dataclass(frozen=True)
class Runtime:
    """What tool calls need from the outside: the database, the practice zone and limits."""

    engine: Engine
    tz: ZoneInfo
    limits: PracticeLimits = field(default_factory=PracticeLimits)
    memory: MemorySearch | None = None
    clock: Callable[[], datetime] = utcnow

    def context(self, session: Session, actor: Actor) -> ToolContext:
        """What one tool call runs with: this session, the acting user, 'now' from the clock."""
        return ToolContext(
            session=session,
            actor=actor,
            tz=self.tz,
            now=self.clock(),
            limits=self.limits,
            memory=self.memory,
        )


# What a tool call came to, in words for the person (CLI, API, web): only "done" did anything.
OUTCOME_TEXT = {
    "done": "done",
    "rejected": "rejected by you, nothing was done",
    "denied": "refused (access denied), nothing was done",
    "unapproved": "not approved, nothing was done",
    "failed": "failed, nothing was done",
}


def outcome_of(message: ToolMessage) -> str:
    """done, rejected, denied, unapproved or failed (also for messages saved before the
    outcome was recorded)."""
    artifact = message.artifact if isinstance(message.artifact, dict) else {}
    outcome = artifact.get("outcome")
    if outcome in OUTCOME_TEXT:
        return str(outcome)
    if message.status == "error":
        return "failed"
    return "rejected" if message.content == REJECTED_TEXT else "done"


def args_digest(args: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the arguments: comparable, but no patient data kept."""
    canonical = json.dumps(
        args, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validation_message(exc: ValidationError) -> str:
    # Field and reason only: the rejected value may be patient data.
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]]
    return "invalid arguments (" + "; ".join(parts) + ")"


class _Call:
    def __init__(self, toolbox: Toolbox, call: ToolCall, decision: str, thread_id: str) -> None:
        self.toolbox, self.actor = toolbox, toolbox.actor
        self.name, self.id = call["name"], str(call.get("id") or "")
        self.args = dict(call.get("args") or {})
        self.decision, self.thread_id = decision, thread_id
        self.digest = args_digest(self.args)
        self.patient_id: int | None = None

    def audit(self, spec: ToolSpec | None, outcome: str, patient_id: int | None) -> ToolCallAudit:
        return ToolCallAudit(
            actor_id=self.actor.practitioner_id,
            role=self.actor.role.value,
            tool=self.name[:60],
            kind=spec.kind if spec else "?",
            patient_id=patient_id,
            args_digest=self.digest,
            decision=self.decision.split(":")[0][:20],
            outcome=outcome,
            thread_id=self.thread_id[:100] or None,
            tool_call_id=self.id[:100] or None,
        )

    def reply(self, content: str, *, error: bool = False, outcome: str = "") -> ToolMessage:
        return ToolMessage(
            content=content,
            tool_call_id=self.id,
            name=self.name,
            status="error" if error else "success",
            # For people, not the model: what happened (see outcome_of)
            artifact={"outcome": outcome or ("failed" if error else "done")},
        )


def _record(engine: Engine, row: ToolCallAudit) -> None:
    with Session(engine) as session:
        session.add(row)
        session.commit()


def execute(
    *, toolbox: Toolbox, runtime: Runtime, call: ToolCall, decision: str, thread_id: str
) -> ToolMessage:
    """Run one tool call the graph decided on and return what the model reads back."""
    c = _Call(toolbox, call, decision, thread_id)
    spec = toolbox.get(c.name)
    if spec is None:
        _record(runtime.engine, c.audit(None, "unknown_tool", None))
        return c.reply(f"error: there is no tool named {c.name!r} for your role", error=True)
    with Session(runtime.engine, expire_on_commit=False) as session:
        ctx = runtime.context(session, toolbox.actor)
        try:
            return _run(c, spec, ctx)
        except AccessDenied as exc:
            # Refused before anything was written: keep require()'s denial row, add ours.
            session.add(c.audit(spec, "denied", c.patient_id))
            session.commit()
            return c.reply(f"access denied: {exc}", error=True, outcome="denied")
        except ValidationError as exc:
            session.rollback()
            _record(runtime.engine, c.audit(spec, "error", c.patient_id))
            return c.reply(f"error: {validation_message(exc)}", error=True)
        except SteveError as exc:
            session.rollback()
            _record(runtime.engine, c.audit(spec, "error", c.patient_id))
            return c.reply(f"error: {exc.display()}", error=True)
        except Exception as exc:  # a bug or an outage must not end the conversation
            session.rollback()
            log.warning("tool %s failed (%s)", c.name, type(exc).__name__)
            _record(runtime.engine, c.audit(spec, "error", c.patient_id))
            return c.reply(f"error: the tool failed ({type(exc).__name__})", error=True)


def _checked(c: _Call, spec: ToolSpec, ctx: ToolContext) -> Checked:
    """Validate the call against the tool's schema, then decide access on the validated
    values; the audit row names the patient they lead to, whatever the outcome."""
    session = ctx.session
    try:
        checked = resolve(session=session, spec=spec, args=c.args)
    except ValidationError:
        c.patient_id = attempted_patient(session=session, spec=spec, args=c.args)
        raise
    c.patient_id = checked.patient_id
    try:
        authorise(
            session=session, actor=ctx.actor, spec=spec, checked=checked, entity=f"tool:{c.name}"
        )
    except AccessDenied:
        c.patient_id = refused_patient(session=session, actor=ctx.actor, checked=checked)
        raise
    return checked


def _run(c: _Call, spec: ToolSpec, ctx: ToolContext) -> ToolMessage:
    session = ctx.session
    checked = _checked(c, spec, ctx)
    patient_id = checked.patient_id
    claim: ToolExecution | None = None
    if spec.kind == "write":
        if c.decision == "rejected":
            session.add(c.audit(spec, "rejected", patient_id))
            session.commit()
            return c.reply(REJECTED_TEXT, outcome="rejected")
        if c.decision.startswith("invalid: "):
            session.add(c.audit(spec, "error", patient_id))
            session.commit()
            return c.reply("error: " + c.decision.removeprefix("invalid: "), error=True)
        if c.decision not in APPROVED:
            session.add(c.audit(spec, "unapproved", patient_id))
            session.commit()
            return c.reply(
                "error: this action was not approved, so it was not done",
                error=True,
                outcome="unapproved",
            )
        key = f"{c.thread_id}:{c.id}"[:220]
        done = session.get(ToolExecution, key)
        if done is not None:
            return _replay(c, spec, session, done, patient_id)
        claim = ToolExecution(
            key=key, tool=c.name, actor_id=ctx.actor.practitioner_id, patient_id=patient_id
        )
        session.add(claim)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()  # another process ran it first
            done = session.get(ToolExecution, key)
            if done is None:
                raise
            return _replay(c, spec, session, done, patient_id)
    # Exactly the values the access decision was made on: nothing the check did not see.
    payload = spec.tool.invoke({**checked.values, "ctx": ctx})
    content = tool_result(c.name, payload)
    if claim is not None:
        claim.result = content
        session.add(claim)
    session.add(c.audit(spec, "done", patient_id))
    session.commit()
    fault("after_tool_commit")  # tests: the write is done, the checkpoint is not yet saved
    return c.reply(content)


def _replay(
    c: _Call, spec: ToolSpec, session: Session, done: ToolExecution, patient_id: int | None
) -> ToolMessage:
    session.add(c.audit(spec, "replayed", patient_id))
    session.commit()
    return c.reply(done.result)
