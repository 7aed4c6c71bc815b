"""Shared builders for the scheduling tests: a clinic, a team, times on a fixed Monday."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from db.models import (
    Appointment,
    AuditEvent,
    Discipline,
    Practitioner,
)
from tests.support import factories
from tools.clock import at_local
from tools.errors import SteveError
from tools.scheduling import BlockPart, book, free_slots

TZ = ZoneInfo("Europe/London")
MONDAY = date(2030, 3, 4)
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return at_local(day, time(hh, mm), TZ)


def local(slot_time: datetime) -> str:
    return slot_time.astimezone(TZ).strftime("%H:%M")


def count(session: Session, model: Any) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def book_at(session: Session, pr: Practitioner, pt_id: int, start: datetime, minutes: int = 45):
    assert pr.id is not None
    return book(
        session=session,
        practitioner_id=pr.id,
        patient_id=pt_id,
        service_type="consultation",
        starts_at=start,
        duration_minutes=minutes,
        tz=TZ,
    )


def refuses(
    session: Session, call: Callable[[], object], error: type[SteveError], text: str
) -> str:
    """The call raises `error` mentioning `text`, leaves nothing pending and writes nothing."""
    before = (count(session, Appointment), count(session, AuditEvent))
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value)
    assert not session.new
    # Counting autoflushes: anything added by the failed call would be counted here.
    assert (count(session, Appointment), count(session, AuditEvent)) == before
    session.rollback()
    assert (count(session, Appointment), count(session, AuditEvent)) == before
    return str(info.value)


@pytest.fixture
def clinic(session: Session) -> dict[str, Any]:
    """A physician working 9-17 on weekdays and a patient with a distinctive name."""
    doc = factories.practitioner(session, name="Dr Ivy Hale")
    zelda = factories.patient(session, given="Zelda", family="Quixote")
    session.commit()
    return {"doc": doc, "patient": zelda}


# ----------------------------------------------------------------- visit blocks


def slots_of(session: Session, pr_id: int, *, day: date = MONDAY, minutes: int = 45, **kw: Any):
    kw.setdefault("now", NOW)
    return free_slots(
        session=session, practitioner_id=pr_id, day=day, duration_minutes=minutes, tz=TZ, **kw
    )


def starts(session: Session, pr_id: int, **kw: Any) -> list[str]:
    return [local(s.start) for s in slots_of(session, pr_id, **kw)]


@pytest.fixture
def team(session: Session) -> dict[str, Any]:
    doc = factories.practitioner(session, name="Dr A")
    acu = factories.practitioner(session, name="Acu B", discipline=Discipline.ACUPUNCTURE)
    coach = factories.practitioner(session, name="Coach C", discipline=Discipline.HEALTH_COACHING)
    pt = factories.patient(session)
    session.commit()
    parts = [BlockPart(doc.id, 60), BlockPart(acu.id, 45, "acupuncture"), BlockPart(coach.id, 30)]  # type: ignore[arg-type]
    return {"doc": doc, "acu": acu, "coach": coach, "patient": pt, "parts": parts}
