"""Schedule: a day's appointments, free slots, booking and cancelling."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import select

from app.api import adapters, policy
from app.api.deps import Ctx, CurrentCtx, PageParams
from app.api.errors import responses
from app.api.params import DayQuery, IdPath, IdQuery
from db.engine import utcnow
from db.models import Appointment, Patient, Practitioner
from tools.access import patients_in_scope
from tools.clock import parse_local_datetime, today_in
from tools.limits import MAX_ID, Day, FilledLine, Line, RecordId
from tools.scheduling import book, cancel, free_slots
from tools.scheduling.agenda import day_appointments

router = APIRouter(prefix="/api/schedule", tags=["schedule"])

# 'YYYY-MM-DD HH:MM' from 1900 to 2100 (a day that does not exist, such as 02-30, is a 422).
START_PATTERN = (
    r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"[ T]([01][0-9]|2[0-3]):[0-5][0-9]$"
)


class Booking(BaseModel):
    patient_id: RecordId
    practitioner_id: RecordId
    start: str = Field(
        description="practice-local 'YYYY-MM-DD HH:MM' (1900 to 2100)",
        pattern=START_PATTERN,
    )
    duration_minutes: int = Field(default=45, ge=5, le=480, strict=True)
    service_type: FilledLine = Field(default="consultation", min_length=1, max_length=100)


class Cancellation(BaseModel):
    reason: Line | None = Field(default=None, max_length=300)


def _names(ctx: Ctx, model: type, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows: list[Any] = list(ctx.session.exec(select(model).where(model.id.in_(ids))).all())  # type: ignore[attr-defined]
    return {r.id: (r.full_name if isinstance(r, Patient) else r.name) for r in rows}


@router.get("/day", responses=responses(403, 404, 422))
def day(
    ctx: CurrentCtx,
    page: PageParams,
    on: DayQuery = None,
    practitioner_id: IdQuery = None,
) -> dict[str, Any]:
    """Appointments on a day (practice-local times), for one practitioner or everyone."""
    ctx.require(*policy.SCHEDULE, entity="appointment")
    when = on or today_in(ctx.settings.zone)
    rows = day_appointments(
        session=ctx.session, day=when, tz=ctx.settings.zone, practitioner_id=practitioner_id
    )
    scope = patients_in_scope(session=ctx.session, actor=ctx.actor)
    rows = [a for a in rows if scope is None or a.patient_id in scope]
    items = page.slice(rows)
    people = _names(ctx, Practitioner, {a.practitioner_id for a in items})
    patients = _names(ctx, Patient, {a.patient_id for a in items})
    out = [
        {
            **adapters.appointment_record(a, ctx.settings.zone, people),
            "patient": patients.get(a.patient_id),
        }
        for a in items
    ]
    ctx.audit_reads("appointment", (a.patient_id for a in items))
    return {"date": when.isoformat(), **page.envelope(out, len(rows))}


@router.get("/slots", responses=responses(403, 404, 409, 422))
def slots(
    ctx: CurrentCtx,
    practitioner_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    on: Annotated[Day, Query(alias="date", description="YYYY-MM-DD, 1900 to 2100.")],
    duration_minutes: Annotated[int, Query(ge=5, le=480)] = 45,
) -> dict[str, Any]:
    """Free, bookable slots of one practitioner on a day."""
    ctx.require(*policy.SCHEDULE, entity="slots")
    tz = ctx.settings.zone
    found = free_slots(
        session=ctx.session,
        practitioner_id=practitioner_id,
        day=on,
        duration_minutes=duration_minutes,
        tz=tz,
        step_minutes=ctx.settings.limits.slot_step_minutes,
    )
    return {
        "practitioner_id": practitioner_id,
        "date": on.isoformat(),
        "slots": [
            {"start": adapters.records.local(s.start, tz), "end": adapters.records.local(s.end, tz)}
            for s in found
        ],
    }


@router.post("/appointments", status_code=201, responses=responses(403, 404, 409, 413, 422))
def book_appointment(ctx: CurrentCtx, body: Booking) -> dict[str, Any]:
    """Book one appointment (refuses double-booking, closed hours and the past)."""
    ctx.require(*policy.SCHEDULE, patient_id=body.patient_id, entity="appointment")
    tz = ctx.settings.zone
    appt = book(
        session=ctx.session,
        practitioner_id=body.practitioner_id,
        patient_id=body.patient_id,
        service_type=body.service_type,
        starts_at=parse_local_datetime(body.start, tz),
        duration_minutes=body.duration_minutes,
        tz=tz,
        actor=ctx.label,
        now=utcnow(),
    )
    return adapters.appointment_record(appt, tz)


@router.post("/appointments/{appointment_id}/cancel", responses=responses(403, 404, 409, 413, 422))
def cancel_appointment(
    ctx: CurrentCtx, appointment_id: IdPath, body: Cancellation
) -> dict[str, Any]:
    """Cancel a booked appointment."""
    found = ctx.session.get(Appointment, appointment_id)
    ctx.require(
        *policy.SCHEDULE, patient_id=found.patient_id if found else None, entity="appointment"
    )
    appt = cancel(
        session=ctx.session, appointment_id=appointment_id, reason=body.reason, actor=ctx.label
    )
    return adapters.appointment_record(appt, ctx.settings.zone)
