"""Chat tools decide access on validated arguments (issue 11, items 1 and 2).

The table is generated from the registry: every tool x every record-id argument it takes
x {int, numeric string, float, bool, negative, huge, past int4, null} x {in scope, out of
scope}, as an in-house acupuncturist (who sees only the patients of her programmes). A new
tool, or a new id argument, is in the table without anyone adding it here; a tool without a
row of base arguments below fails `test_every_tool_has_base_arguments`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolCall
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.toolbox import SPECS, toolbox_for
from agent.toolbox.arguments import KINDS, MAX_ID, id_arguments
from agent.toolbox.context import ToolSpec
from agent.toolbox.execute import execute
from db.models import (
    ClinicalProtocol,
    ProtocolReview,
    ReferralCreate,
    ReferralDirection,
    ReviewReason,
    TaskCreate,
    ToolCallAudit,
    ToolExecution,
)
from tests.support.chat import TZ, Practice, build_practice, runtime
from tools.access import Actor, actor_for
from tools.clock import parse_local_datetime
from tools.referrals import create_referral
from tools.scheduling import book
from tools.tasks import create_task

PATIENT_KINDS = {kind for kind, (_, column) in KINDS.items() if column is not None}


@dataclass(frozen=True)
class Side:
    """The records of one patient: in the acupuncturist's programmes, or not."""

    patient: int
    appointment: int
    referral: int
    task: int


@dataclass(frozen=True)
class World:
    p: Practice
    review: int
    inside: Side
    outside: Side


def _records(session: Session, p: Practice, patient: int, at: str) -> Side:
    appt = book(
        session=session,
        practitioner_id=p.physician,
        patient_id=patient,
        service_type="consultation",
        starts_at=parse_local_datetime(at, TZ),
        duration_minutes=30,
        tz=TZ,
    )
    referral = create_referral(
        session=session,
        data=ReferralCreate(
            direction=ReferralDirection.OUTBOUND,
            patient_id=patient,
            from_practitioner_id=p.physician,
            to_practitioner_id=p.external,
            reason="persistent bloating",
        ),
    )
    task = create_task(
        session=session,
        data=TaskCreate(
            title="Chase the stool test",
            assignee_id=p.acupuncturist,
            patient_id=patient,
            created_by_id=p.physician,
        ),
    )
    ids = (patient, appt.id, referral.id, task.id)
    assert all(isinstance(i, int) for i in ids)
    return Side(*ids)  # type: ignore[arg-type]


def _world(engine: Engine) -> World:
    with Session(engine, expire_on_commit=False) as session:
        p = build_practice(session)
        inside = _records(session, p, p.patient, "2030-01-08 12:00")
        outside = _records(session, p, p.other_patient, "2030-01-08 14:00")
        protocol = ClinicalProtocol(title="IBS", condition="ibs", owner_id=p.physician)
        session.add(protocol)
        session.flush()
        review = ProtocolReview(protocol_id=protocol.id, reason=ReviewReason.INTERVAL)
        session.add(review)
        session.commit()
        assert review.id is not None
        return World(p, review.id, inside, outside)


# Valid arguments for each tool, for the records of one side. The id arguments are what the
# table varies; everything else only has to be right so that a valid call succeeds.
BASE: dict[str, Callable[[World, Side], dict[str, Any]]] = {
    "find_patients": lambda w, s: {"name": "Ada"},
    "patient_programme": lambda w, s: {"patient_id": s.patient},
    "list_practitioners": lambda w, s: {},
    "free_slots": lambda w, s: {
        "practitioner_id": w.p.acupuncturist,
        "date": "2030-01-09",
        "duration_minutes": 30,
    },
    "day_schedule": lambda w, s: {"date": "2030-01-08", "practitioner_id": w.p.physician},
    "practice_overview_today": lambda w, s: {"date": "2030-01-08"},
    "my_tasks": lambda w, s: {},
    "list_overdue_referrals": lambda w, s: {},
    "search_literature": lambda w, s: {"query": "bloating"},
    "evidence_summary": lambda w, s: {"refs": ["pmid:1"]},
    "protocol_reviews_due": lambda w, s: {},
    "search_patient_notes": lambda w, s: {"patient_id": s.patient, "query": "sleep"},
    "my_preferences": lambda w, s: {},
    "book_appointment": lambda w, s: {
        "patient_id": s.patient,
        "practitioner_id": w.p.acupuncturist,
        "start": "2030-01-09 11:00",
        "duration_minutes": 30,
    },
    "reschedule_appointment": lambda w, s: {
        "appointment_id": s.appointment,
        "new_start": "2030-01-09 15:00",
    },
    "cancel_appointment": lambda w, s: {"appointment_id": s.appointment},
    "create_referral": lambda w, s: {
        "patient_id": s.patient,
        "to_practitioner_id": w.p.external,
        "reason": "bloating",
    },
    "advance_referral": lambda w, s: {"referral_id": s.referral, "to_status": "sent"},
    "send_care_message": lambda w, s: {
        "recipient_id": w.p.nutritionist,
        "subject": "Ada",
        "body": "Please see Ada",
        "patient_id": s.patient,
    },
    "create_task": lambda w, s: {
        "assignee_id": w.p.acupuncturist,
        "title": "Call back",
        "patient_id": s.patient,
    },
    "complete_task": lambda w, s: {"task_id": s.task},
    "acknowledge_protocol_review": lambda w, s: {"review_id": w.review},
}

# name -> how to make it from the right id (None: no id at all)
VARIANTS: dict[str, Callable[[int], Any]] = {
    "int": lambda i: i,
    "numeric string": str,
    "float": float,
    "bool": lambda i: True,
    "negative": lambda i: -i,
    "huge": lambda i: 2**70,
    "past int4": lambda i: MAX_ID + 1,
    "null": lambda i: None,
}
NAMES_THE_RECORD = {"int", "numeric string", "float"}  # a lenient reading finds the id


def _cases() -> list[tuple[str, str]]:
    return [(s.name, arg) for s in SPECS for arg in id_arguments(s)]


def _spec(name: str) -> ToolSpec:
    return next(s for s in SPECS if s.name == name)


def _actor(engine: Engine, practitioner_id: int) -> Actor:
    with Session(engine) as session:
        return actor_for(session=session, practitioner_id=practitioner_id)


class NoMemory:
    """Memory search that finds nothing and records whom it was asked about."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def search_patient(self, patient_id: int, query: str, *, k: int = 5) -> list[Any]:
        self.asked.append(patient_id)
        return []

    def search_literature(self, query: str, *, k: int = 10) -> list[Any]:
        return []

    def preferences_for(self, physician_id: int) -> list[Any]:
        return []


def _last_audit(engine: Engine) -> ToolCallAudit:
    with Session(engine) as session:
        rows = session.exec(select(ToolCallAudit).order_by(ToolCallAudit.id.desc())).first()  # type: ignore[union-attr]
        assert rows is not None
        return rows


def _ran(engine: Engine, call_id: str) -> bool:
    with Session(engine) as session:
        return session.get(ToolExecution, f"t:{call_id}") is not None


def test_every_tool_has_base_arguments() -> None:
    assert set(BASE) == {s.name for s in SPECS}


def test_every_id_argument_of_every_tool_is_a_checked_record_id() -> None:
    """A plain `int` id would be coerced and skip the patient check: none may exist."""
    for spec in SPECS:
        schema = spec.tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
        ids = id_arguments(spec)
        for name in schema.get("properties", {}):
            if name.endswith("_id"):
                assert name in ids, (
                    f"{spec.name}.{name} is not a record id (agent.toolbox.arguments)"
                )
    assert {kind for s in SPECS for kind in id_arguments(s).values()} <= set(KINDS)
    for kind, (model, column) in KINDS.items():
        assert column is None or column in model.model_fields, kind


NOT_IDS = {"duration_minutes"}  # integers that name no record


def test_every_integer_argument_is_a_record_id_or_known_not_to_be_one() -> None:
    for spec in SPECS:
        props = spec.tool.tool_call_schema.model_json_schema()["properties"]  # type: ignore[union-attr]
        for name, prop in props.items():
            types = {prop.get("type")} | {t.get("type") for t in prop.get("anyOf", [])}
            if "integer" in types and name not in id_arguments(spec):
                assert name in NOT_IDS, f"{spec.name}.{name}: an id? use a Ref'd id type"
    assert len(_cases()) >= 15  # patient, appointment, referral, task, practitioner, review ids


@pytest.mark.parametrize(("tool", "arg"), _cases())
def test_ids_are_checked_after_validation_for_every_tool(
    engine: Engine, tool: str, arg: str
) -> None:
    w = _world(engine)
    spec = _spec(tool)
    kinds = id_arguments(spec)
    acu = _actor(engine, w.p.acupuncturist)
    memory = NoMemory()
    box = toolbox_for(acu, with_memory=True)
    if box.get(tool) is None:  # not the acupuncturist's tool: a physician, who sees everyone
        box = toolbox_for(_actor(engine, w.p.physician), with_memory=True)
    rt = runtime(engine, memory)
    required = arg in (spec.tool.tool_call_schema.model_json_schema().get("required") or [])  # type: ignore[union-attr]
    scoped = box.actor.practitioner_id == w.p.acupuncturist
    sides = {"in scope": w.inside, "out of scope": w.outside} if scoped else {"in": w.inside}
    # Ill-typed first, then the out-of-scope int, then the one call that may change things.
    order = [v for v in VARIANTS if v != "int"] + ["int"]
    for scope, side in sorted(sides.items(), key=lambda kv: kv[0] == "in scope"):
        base = BASE[tool](w, side)
        for variant in order:
            label = f"{tool}.{arg}={variant} ({scope})"
            args = {**base, arg: VARIANTS[variant](base[arg])}
            call_id = f"{tool}-{arg}-{variant}-{scope}".replace(" ", "_")
            call: ToolCall = {"name": tool, "args": args, "id": call_id, "type": "tool_call"}
            msg = execute(toolbox=box, runtime=rt, call=call, decision="approved", thread_id="t")
            row = _last_audit(engine)
            assert row.tool_call_id == call_id, label
            text = str(msg.content)
            # Which patients the call still names (an optional id given as null names none).
            named = {
                name: args[name]
                for name, kind in kinds.items()
                if kind in PATIENT_KINDS and args.get(name) is not None
            }
            valid = variant == "int" or (variant == "null" and not required)
            touches = bool(named)
            if not valid:
                assert msg.status == "error" and "invalid arguments" in text, (label, text)
                assert arg in text, label  # names what was wrong
                assert row.outcome == "error", label
                assert not _ran(engine, call_id), label
                knows_patient = bool({n for n in named if n != arg}) or (
                    variant in NAMES_THE_RECORD and kinds[arg] in PATIENT_KINDS
                )
                if knows_patient:  # the attempt is on that patient's record
                    assert row.patient_id == side.patient, label
            elif scope == "out of scope" and touches:
                assert msg.status == "error" and "access denied" in text, (label, text)
                assert (row.outcome, row.patient_id) == ("denied", side.patient), label
                assert not _ran(engine, call_id), label
                assert "Other" not in text and "Bob" not in text, label
            else:
                assert msg.status == "success", (label, text)
                assert row.outcome == "done", label
                if touches:
                    assert row.patient_id == side.patient, label
            if tool == "search_patient_notes":
                assert w.outside.patient not in memory.asked, label


@pytest.mark.parametrize(("tool", "arg"), [c for c in _cases() if _spec(c[0]).kind == "write"])
def test_a_refused_write_is_never_described_for_approval(
    engine: Engine, tool: str, arg: str
) -> None:
    """plan(): the person is asked only about valid calls they may make, and an out-of-scope
    patient's name never reaches the approval text."""
    from agent.chat.approvals import plan

    w = _world(engine)
    box = toolbox_for(_actor(engine, w.p.acupuncturist))
    if box.get(tool) is None:
        pytest.skip("not an acupuncturist's tool (the role check refuses it outright)")
    for scope, side in (("in", w.inside), ("out", w.outside)):
        base = BASE[tool](w, side)
        for variant, make in VARIANTS.items():
            args = {**base, arg: make(base[arg])}
            reply = AIMessage(
                content="",
                tool_calls=[{"name": tool, "args": args, "id": "c1", "type": "tool_call"}],
            )
            pending, decisions = plan(box, runtime(engine), reply)
            for item in pending:
                assert "Bob" not in item["summary"] and "Other" not in item["summary"]
            if variant == "int" and scope == "in":
                assert [i["tool"] for i in pending] == [tool], decisions
            if variant == "int" and scope == "out":  # every such write touches a patient
                assert pending == [] and decisions["c1"] == "refused", decisions
            if variant not in ("int", "null"):
                assert pending == [] and decisions["c1"].startswith("invalid: "), variant


# ------------------------------------------------------------- item 2: edited approvals


def test_an_edit_to_a_patient_out_of_scope_is_refused_before_it_is_described(
    engine: Engine,
) -> None:
    from db.models import Appointment, AuditEvent
    from tests.support.chat import chat
    from tests.support.fake_models import ToolCallingChatModel, call

    w = _world(engine)
    p = w.p
    book_ada = call(
        "book_appointment",
        patient_id=p.patient,
        practitioner_id=p.acupuncturist,
        start="2030-01-09 11:00",
        duration_minutes=30,
    )
    model = ToolCallingChatModel.scripted([book_ada, "Booked."])
    session = chat(engine, p.acupuncturist, model, thread="t-edit")
    first = session.send("Book Ada tomorrow at 11")
    assert "Ada Lovelace" in first.approvals[0]["summary"]
    for edit in ({"patient_id": p.other_patient}, {"patient_id": p.other_patient}):
        refused = session.decide({"decision": "edit", "args": edit})
        [question] = refused.approvals
        shown = repr(question)
        assert "Bob" not in shown and "Other" not in shown  # the other patient: Bob Other
        assert f"(patient {p.other_patient}," not in question["summary"]
        assert "refused" in question["note"] and "access denied" in question["note"]
        assert question["args"]["patient_id"] == p.patient and not question["edited"]
    typed = session.decide({"decision": "edit", "args": {"patient_id": str(p.other_patient)}})
    assert "not valid" in typed.approvals[0]["note"] and "Bob" not in repr(typed.approvals)
    done = session.decide("approve")  # the proposal as it stood: Ada's
    assert done.reply == "Booked."
    with Session(engine) as s:
        booked = s.exec(select(Appointment).where(Appointment.practitioner_id == p.acupuncturist))
        assert [a.patient_id for a in booked] == [p.patient]
        rows = s.exec(select(ToolCallAudit).where(ToolCallAudit.thread_id == "t-edit")).all()
        denials = s.exec(select(AuditEvent).where(AuditEvent.action == "denied")).all()
    # Each refused edit audited once with the patient, though the node re-ran on each resume.
    assert [(r.decision, r.outcome, r.patient_id) for r in rows] == [
        ("edit", "denied", p.other_patient),
        ("edit", "denied", p.other_patient),
        ("approved", "done", p.patient),
    ]
    assert [d.patient_id for d in denials] == [p.other_patient, p.other_patient]
