"""A small practice and a chat session over it, for the agent's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.chat import ChatDeps, ChatSession, build_chat_graph
from agent.toolbox import toolbox_for
from agent.toolbox.execute import Runtime
from db.models import (
    Affiliation,
    Appointment,
    CareProgramme,
    Discipline,
    ProgrammeElement,
    ToolCallAudit,
)
from tests.support import factories
from tools.access import actor_for
from tools.clock import parse_local_datetime
from tools.scheduling import book

TZ = ZoneInfo("Europe/London")
NOW = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # a Monday morning, before clinic


@dataclass
class Practice:
    physician: int
    acupuncturist: int
    nutritionist: int
    staff: int
    external: int
    patient: int  # in the acupuncturist's programme
    other_patient: int  # in nobody's programme
    appointment: int  # the patient's, with the physician, 2030-01-08 10:00


def build_practice(session: Session) -> Practice:
    doc = factories.practitioner(session, name="Dr Quinn", discipline=Discipline.PHYSICIAN)
    acu = factories.practitioner(session, name="Lee Acu", discipline=Discipline.ACUPUNCTURE)
    nut = factories.practitioner(
        session, name="Nia Nutrition", discipline=Discipline.NUTRITIONAL_THERAPY
    )
    desk = factories.practitioner(session, name="Sam Desk", discipline=Discipline.ADMIN)
    ext = factories.practitioner(
        session,
        name="Dr Gut",
        discipline=Discipline.GASTROENTEROLOGY,
        affiliation=Affiliation.EXTERNAL,
    )
    patient = factories.patient(session, given="Ada", family="Lovelace", physician=doc)
    other = factories.patient(session, given="Bob", family="Other", physician=doc)
    programme = CareProgramme(
        patient_id=patient.id,
        title="Gut health",
        lead_practitioner_id=doc.id,
        started_on=date(2029, 12, 1),
    )
    session.add(programme)
    session.flush()
    for who, modality in ((acu, Discipline.ACUPUNCTURE), (nut, Discipline.NUTRITIONAL_THERAPY)):
        session.add(
            ProgrammeElement(
                programme_id=programme.id,
                patient_id=patient.id,
                modality=modality,
                practitioner_id=who.id,
                goal="settle symptoms",
                cadence="weekly",
                started_on=date(2029, 12, 1),
            )
        )
    appt = book(
        session=session,
        practitioner_id=doc.id,
        patient_id=patient.id,
        service_type="consultation",
        starts_at=parse_local_datetime("2030-01-08 10:00", TZ),
        duration_minutes=30,
        tz=TZ,
    )
    session.commit()
    ids = [doc.id, acu.id, nut.id, desk.id, ext.id, patient.id, other.id, appt.id]
    assert all(i is not None for i in ids)
    return Practice(*ids)  # type: ignore[arg-type]


def runtime(engine: Engine, memory: Any = None) -> Runtime:
    return Runtime(engine=engine, tz=TZ, memory=memory, clock=lambda: NOW)


def chat(
    engine: Engine,
    practitioner_id: int,
    model: Any,
    *,
    checkpointer: Any = None,
    thread: str = "thread-1",
    budget: int = 0,
    recursion_limit: int = 25,
    memory: Any = None,
) -> ChatSession:
    """A chat session for one user, compiled with an in-memory checkpointer by default."""
    with Session(engine) as session:
        actor = actor_for(session=session, practitioner_id=practitioner_id)
    toolbox = toolbox_for(actor, with_memory=memory is not None)
    deps = ChatDeps(
        model=model,
        toolbox=toolbox,
        runtime=runtime(engine, memory),
        daily_token_budget=budget,
        recursion_limit=recursion_limit,
    )
    graph = build_chat_graph(deps).compile(checkpointer=checkpointer or InMemorySaver())
    return ChatSession(graph, deps, thread)


def appointment_status(engine: Engine, appointment_id: int) -> str:
    with Session(engine) as session:
        appt = session.get(Appointment, appointment_id)
        assert appt is not None
        return str(appt.status)


def tool_audit(engine: Engine) -> list[ToolCallAudit]:
    with Session(engine) as session:
        return list(session.exec(select(ToolCallAudit).order_by(ToolCallAudit.id)).all())  # type: ignore[arg-type]
