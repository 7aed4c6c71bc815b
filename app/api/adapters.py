"""The few calls the API makes into the agent package, kept here so that a change there
means a change in one place. Serialisers reuse the toolbox's role-redacted records."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session, col, select

from agent.toolbox import records
from app.settings import Settings
from tools.clock import at_local, local_day_bounds, today_in
from tools.errors import InvalidInput
from tools.models import Appointment, Discipline, Patient, Practitioner
from tools.registry import get_patient, get_practitioner

appointment_record = records.appointment
referral_record = records.referral
task_record = records.task


def briefing_context(session: Session, s: Settings, actor_label: str, model: Any) -> Any:
    from agent.briefing.gather import DatabasePreferences
    from agent.briefing.state import BriefingContext

    return BriefingContext(
        session=session,
        tz=s.zone,
        model=model,
        memory=DatabasePreferences(session),
        lab_grace_days=s.lab_overdue_grace_days,
        lookback_days=s.briefing_lookback_days,
        evidence_days=s.briefing_evidence_days,
        referral_overdue_days=dict(s.referral_overdue_days),
        actor=actor_label,
    )


def _as_of(day: date, s: Settings) -> datetime:
    """Now for today's briefings; the start of the clinic day for another date's."""
    if day == today_in(s.zone):
        return datetime.now(UTC)
    return at_local(day, time(7, 0), s.zone)


def physician_appointment(
    session: Session, patient_id: int, day: date, s: Settings, physician_id: int | None
) -> Appointment | None:
    from agent.briefing.graph import BRIEFED_STATUSES

    start, end = local_day_bounds(day, s.zone)
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


def briefing_record(b: Any) -> dict[str, Any]:
    return {
        "patient_id": b.patient_id,
        "physician_id": b.physician_id,
        "appointment_id": b.appointment_id,
        "mode": b.mode,
        "kept": b.kept,
        "dropped": len(b.dropped),
        "sources": b.cited,
        "notes": b.notes,
        "markdown": b.markdown,
        "html": b.html,
    }


def brief_patient(
    *,
    session: Session,
    s: Settings,
    actor_label: str,
    model: Any,
    patient_id: int,
    day: date,
    physician_id: int | None,
) -> Any:
    from agent.briefing.graph import run_briefing

    patient: Patient = get_patient(session=session, patient_id=patient_id)
    if physician_id is not None:
        doctor = get_practitioner(session=session, practitioner_id=physician_id)
        if doctor.discipline != Discipline.PHYSICIAN:
            raise InvalidInput(f"practitioner {physician_id} is not a physician")
    appointment = physician_appointment(session, patient_id, day, s, physician_id)
    chosen = (
        appointment.practitioner_id
        if appointment
        else (physician_id or patient.primary_physician_id)
    )
    if chosen is None:
        raise InvalidInput(
            f"patient {patient_id} has no physician appointment on {day.isoformat()} and no "
            "primary physician; name one with physician_id"
        )
    return run_briefing(
        context=briefing_context(session, s, actor_label, model),
        patient_id=patient_id,
        physician_id=chosen,
        now=_as_of(day, s),
        appointment_id=appointment.id if appointment else None,
    )


def day_appointments(*, session: Session, s: Settings, physician_id: int, day: date) -> list[Any]:
    from agent.briefing.graph import appointments_on

    return appointments_on(session=session, physician_id=physician_id, day=day, tz=s.zone)


def brief_appointment(
    *,
    session: Session,
    s: Settings,
    actor_label: str,
    model: Any,
    appointment: Appointment,
    day: date,
) -> Any:
    from agent.briefing.graph import run_briefing

    return run_briefing(
        context=briefing_context(session, s, actor_label, model),
        patient_id=appointment.patient_id,
        physician_id=appointment.practitioner_id,
        now=_as_of(day, s),
        appointment_id=appointment.id,
    )


def briefing_fragment(html: str) -> str | None:
    """The briefing's <main> content, to embed in a page (the document's own inline style
    would be refused by our Content-Security-Policy). None if the shape is not recognised.
    The briefing renderer escapes all data and allows no raw HTML, so this is safe markup."""
    start, end = html.find("<main>"), html.rfind("</main>")
    if start < 0 or end < start:
        return None
    return html[start + len("<main>") : end]
