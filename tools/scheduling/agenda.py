"""One practice-local day's held appointments: the front desk's agenda, the morning run's list
and the appointments a day's briefings are for (one query, one set of statuses)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from db.models import ACTIVE_APPOINTMENT_STATUSES, Appointment
from tools.clock import local_day_bounds
from tools.registry import get_practitioner


def day_appointments(
    *, session: Session, day: date, tz: ZoneInfo, practitioner_id: int | None = None
) -> list[Appointment]:
    """Held appointments (booked, arrived, completed) on a practice-local day, by
    practitioner, then time, then id (so two appointments at one time keep one order)."""
    if practitioner_id is not None:
        get_practitioner(session=session, practitioner_id=practitioner_id)
    start, end = local_day_bounds(day, tz)
    stmt = select(Appointment).where(
        col(Appointment.starts_at) >= start,
        col(Appointment.starts_at) < end,
        col(Appointment.status).in_(ACTIVE_APPOINTMENT_STATUSES),
    )
    if practitioner_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == practitioner_id)
    stmt = stmt.order_by(
        col(Appointment.practitioner_id), col(Appointment.starts_at), col(Appointment.id)
    )
    return list(session.exec(stmt).all())
