"""Which appointment a patient's briefing is for, which physician it is written for, and the
moment it is written as of (shared by `steve brief` and the HTTP API)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from db.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Discipline, Practitioner
from tools.clock import at_local, local_day_bounds, today_in
from tools.errors import InvalidInput
from tools.registry import get_patient, get_practitioner


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
            col(Appointment.status).in_(ACTIVE_APPOINTMENT_STATUSES),
            Practitioner.discipline == Discipline.PHYSICIAN,
        )
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    )
    if physician_id is not None:
        stmt = stmt.where(Appointment.practitioner_id == physician_id)
    return session.exec(stmt).first()


def briefing_physician(
    *,
    session: Session,
    patient_id: int,
    day: date,
    tz: ZoneInfo,
    physician_id: int | None = None,
    name_one_with: str = "physician_id",
) -> tuple[int, Appointment | None]:
    """(the physician the patient's briefing on `day` is for, the appointment it is for).

    The physician of the patient's first held physician appointment that day (with the
    named physician, if one is named); with none, the named physician, else the patient's
    primary physician. A named practitioner who is not a physician, or no physician at
    all, is an InvalidInput (`name_one_with` says how the caller names one).
    """
    patient = get_patient(session=session, patient_id=patient_id)
    if physician_id is not None:
        doctor = get_practitioner(session=session, practitioner_id=physician_id)
        if doctor.discipline != Discipline.PHYSICIAN:
            raise InvalidInput(f"practitioner {physician_id} is not a physician")
    appointment = physician_appointment(
        session=session, patient_id=patient_id, day=day, tz=tz, physician_id=physician_id
    )
    if appointment is not None:
        return appointment.practitioner_id, appointment
    chosen = physician_id or patient.primary_physician_id
    if chosen is None:
        raise InvalidInput(
            f"patient {patient_id} has no physician appointment on {day.isoformat()} and no "
            f"primary physician; name one with {name_one_with}"
        )
    return chosen, None
