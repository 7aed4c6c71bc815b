"""Which appointment a briefing is for, and the moment it is written as of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from agent.briefing.appointments import briefing_time, physician_appointment
from db.models import Discipline
from tests.support import factories as f
from tools.clock import today_in
from tools.scheduling.booking import book

LONDON = ZoneInfo("Europe/London")
DAY = date(2026, 3, 31)  # summer time: 08:00 UTC is 09:00 local


def test_today_is_now_and_another_day_is_its_clinic_morning() -> None:
    today = today_in(LONDON)
    assert abs(briefing_time(today, LONDON) - datetime.now(UTC)) < timedelta(seconds=5)
    assert briefing_time(DAY, LONDON) == datetime(2026, 3, 31, 6, 0, tzinfo=UTC)


def test_the_physician_appointment_of_the_day(session: Session) -> None:
    doc = f.practitioner(session)
    other_doc = f.practitioner(session)
    acu = f.practitioner(session, discipline=Discipline.ACUPUNCTURE)
    pat = f.patient(session, physician=doc)

    def at(who: int, hour: int) -> int:
        appt = book(
            session=session,
            practitioner_id=who,
            patient_id=pat.id,
            service_type="consultation",
            starts_at=datetime(2026, 3, 31, hour, tzinfo=UTC),
            duration_minutes=30,
            tz=LONDON,
        )
        assert appt.id is not None
        return appt.id

    at(acu.id, 8)  # not a physician: never what a briefing is for
    with_other = at(other_doc.id, 11)
    with_doc = at(doc.id, 14)
    found = physician_appointment(session=session, patient_id=pat.id, day=DAY, tz=LONDON)
    assert found is not None and found.id == with_other  # the first physician visit
    mine = physician_appointment(
        session=session, patient_id=pat.id, day=DAY, tz=LONDON, physician_id=doc.id
    )
    assert mine is not None and mine.id == with_doc
    assert (
        physician_appointment(session=session, patient_id=pat.id, day=DAY + timedelta(1), tz=LONDON)
        is None
    )
