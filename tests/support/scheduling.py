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
    Practitioner,
)
from tools.clock import at_local
from tools.errors import SteveError
from tools.scheduling import book, free_slots

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


# ----------------------------------------------------------------- visit blocks


def slots_of(session: Session, pr_id: int, *, day: date = MONDAY, minutes: int = 45, **kw: Any):
    kw.setdefault("now", NOW)
    return free_slots(
        session=session, practitioner_id=pr_id, day=day, duration_minutes=minutes, tz=TZ, **kw
    )


def starts(session: Session, pr_id: int, **kw: Any) -> list[str]:
    return [local(s.start) for s in slots_of(session, pr_id, **kw)]
