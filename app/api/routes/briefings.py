"""Pre-appointment briefings: for one patient, or every appointment of a physician's day."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.api import adapters, policy
from app.api.deps import CurrentCtx
from app.api.errors import responses
from app.api.params import DayQuery, IdPath, IdQuery
from tools.access import Role
from tools.clock import today_in
from tools.errors import InvalidInput

router = APIRouter(prefix="/api/briefings", tags=["briefings"])


def model_for(request: Request) -> Any:
    return request.app.state.model_factory()


@router.get("/patient/{patient_id}", responses=responses(403, 404, 422))
def briefing_for_patient(
    patient_id: IdPath,
    ctx: CurrentCtx,
    request: Request,
    on: DayQuery = None,
    physician_id: IdQuery = None,
) -> dict[str, Any]:
    """The briefing for one patient's physician appointment on a day (HTML and Markdown);
    physician_id defaults to the physician the patient sees that day."""
    ctx.require(*policy.BRIEFING, patient_id=patient_id, entity="briefing")
    day = on or today_in(ctx.settings.zone)
    b = adapters.brief_patient(
        session=ctx.session,
        s=ctx.settings,
        actor_label=ctx.label,
        model=model_for(request),
        patient_id=patient_id,
        day=day,
        physician_id=physician_id,
    )
    ctx.end_reads()
    ctx.audit("read", "briefing", patient_id=patient_id, entity_id=b.appointment_id)
    return adapters.briefing_record(b)


@router.get("/day", responses=responses(403, 422))
def briefings_for_day(
    ctx: CurrentCtx,
    request: Request,
    on: DayQuery = None,
    physician_id: IdQuery = None,
    summary: Annotated[bool, Query(description="Only the list, no briefing text.")] = False,
) -> dict[str, Any]:
    """A briefing per appointment of a physician's day (only patients in your scope);
    physician_id defaults to you."""
    ctx.require(*policy.BRIEFING, entity="briefing")
    if physician_id is None:
        if ctx.actor.role != Role.PHYSICIAN:
            raise InvalidInput("name the physician with physician_id")
        physician_id = ctx.actor.practitioner_id
    day = on or today_in(ctx.settings.zone)
    appointments = adapters.day_appointments(
        session=ctx.session, s=ctx.settings, physician_id=physician_id, day=day
    )
    scope = _scope(ctx)
    shown = [a for a in appointments if scope is None or a.patient_id in scope]
    items: list[dict[str, Any]] = [adapters.appointment_record(a, ctx.settings.zone) for a in shown]
    if not summary:  # one model client and one context for the whole day
        briefings = adapters.brief_appointments(
            session=ctx.session,
            s=ctx.settings,
            actor_label=ctx.label,
            model=model_for(request),
            appointments=shown,
            day=day,
        )
        for row, b in zip(items, briefings, strict=True):
            row["briefing"] = adapters.briefing_record(b)
    ctx.audit_reads("briefing" if not summary else "appointment", (i["patient_id"] for i in items))
    return {"date": day.isoformat(), "physician_id": physician_id, "items": items}


def _scope(ctx: Any) -> set[int] | None:
    from tools.access import patients_in_scope

    return patients_in_scope(session=ctx.session, actor=ctx.actor)
