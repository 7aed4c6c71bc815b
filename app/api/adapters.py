"""The few calls the API makes into the agent package, kept here so that a change there
means a change in one place. Serialisers reuse the toolbox's role-redacted records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session

from agent.briefing.appointments import briefing_physician, briefing_time
from agent.briefing.graph import run_briefing
from agent.toolbox import records
from app.settings import Settings
from app.wiring import briefing_context
from db.models import Appointment, Practitioner
from tools.scheduling.agenda import day_appointments as held

appointment_record = records.appointment
referral_record = records.referral
task_record = records.task


def briefing_record(b: Any) -> dict[str, Any]:
    return dict(b.record())


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
    chosen, appointment = briefing_physician(
        session=session, patient_id=patient_id, day=day, tz=s.zone, physician_id=physician_id
    )
    return run_briefing(
        context=briefing_context(session, s, actor=actor_label, model=model),
        patient_id=patient_id,
        physician_id=chosen,
        now=briefing_time(day, s.zone),
        appointment_id=appointment.id if appointment else None,
    )


def day_appointments(*, session: Session, s: Settings, physician_id: int, day: date) -> list[Any]:
    """The appointments a physician's day of briefings is for (none for an unknown id)."""
    if session.get(Practitioner, physician_id) is None:
        return []
    return held(session=session, day=day, tz=s.zone, practitioner_id=physician_id)


def brief_appointments(
    *,
    session: Session,
    s: Settings,
    actor_label: str,
    model: Any,
    appointments: Sequence[Appointment],
    day: date,
) -> list[Any]:
    """A briefing per appointment, with one context and one 'as of' time for them all."""
    context = briefing_context(session, s, actor=actor_label, model=model)
    now = briefing_time(day, s.zone)
    return [
        run_briefing(
            context=context,
            patient_id=a.patient_id,
            physician_id=a.practitioner_id,
            now=now,
            appointment_id=a.id,
        )
        for a in appointments
    ]


def briefing_fragment(html: str) -> str | None:
    """The briefing's <main> content, to embed in a page (the document's own inline style
    would be refused by our Content-Security-Policy). None if the shape is not recognised.
    The briefing renderer escapes all data and allows no raw HTML, so this is safe markup."""
    start, end = html.find("<main>"), html.rfind("</main>")
    if start < 0 or end < start:
        return None
    return html[start + len("<main>") : end]
