"""Which appointment a patient's briefing is for, and the moment it is written as of
(shared by `steve brief` and the HTTP API)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from agent.briefing.graph import BRIEFED_STATUSES
from db.models import Appointment, Discipline, Practitioner
from tools.clock import at_local, local_day_bounds, today_in


def briefing_time(day: date, tz: ZoneInfo) -> datetime:
    """Now for today's briefings; the start of the clinic day (07:00) for another date's."""
    if day == today_in(tz):
        return datetime.now(UTC)
    return at_local(day, time(7, 0), tz)


def physician_appointment(
    *,
    session: Session,
    patient_id: int,
    day: date,
    tz: ZoneInfo,
    physician_id: int | None = None,
) -> Appointment | None:
    """The patient's first held appointment with a physician (this one, if given) that day."""
    start, end = local_day_bounds(day, tz)
    stmt = (
        select(Appointment)
        .join(Practitioner, col(Practitioner.id) == Appointment.practitioner_id)
        .where(
            Appointment.patient_id == patient_id,
            col(Appointment.starts_at) >= start,
            col(Appointment.starts_at) < end,
            col(Appointment.status).in_(BRIEFED_STATUSES),
            Practitioner.discipline == Discipline.PHYSICIAN,
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    if physician_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == physician_id)
    return session.exec(stmt).first()
