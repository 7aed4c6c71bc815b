"""The practice overview: a local day's schedule per practitioner and the late or due lists."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from db.models import Appointment, AppointmentStatus, Task
from tests.support import factories
from tools.overview import practice_overview

TZ = ZoneInfo("America/New_York")
DAY = date(2026, 11, 23)


def _appt(session: Session, who, pat, start: datetime, **extra) -> None:
    session.add(
        Appointment(
            practitioner_id=who.id,
            patient_id=pat.id,
            service_type="visit",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            **extra,
        )
    )


def test_overview_groups_the_local_day_per_practitioner(session: Session) -> None:
    doc = factories.practitioner(session, name="Dr Zed")
    acu = factories.practitioner(session, name="Acu Abel")
    pat = factories.patient(session)
    local = lambda h, m=0, d=DAY: datetime(d.year, d.month, d.day, h, m, tzinfo=TZ)  # noqa: E731
    _appt(session, doc, pat, local(9))
    _appt(session, doc, pat, local(23, 30))  # still today in New York, tomorrow in UTC
    _appt(session, doc, pat, local(23, 30, DAY - timedelta(days=1)))  # yesterday
    _appt(session, acu, pat, local(10), visit_block_id="b1")
    _appt(session, acu, pat, local(11), status=AppointmentStatus.CANCELLED)
    session.add(Task(title="late", assignee_id=acu.id, due_on=DAY - timedelta(days=1)))
    session.add(Task(title="today", assignee_id=acu.id, due_on=DAY))
    session.commit()
    ov = practice_overview(session=session, day=DAY, tz=TZ)
    assert [(d.practitioner.name, len(d.appointments)) for d in ov.schedule] == [
        ("Acu Abel", 1),
        ("Dr Zed", 2),
    ]
    assert ov.schedule[0].visit_block_parts == 1
    assert [t.title for t in ov.overdue_tasks] == ["late"]
    assert len(ov.open_tasks) == 2
    assert ov.name(None) == "Steve (assistant)" and ov.name(doc.id) == "Dr Zed"
