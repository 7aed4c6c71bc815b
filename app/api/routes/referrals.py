"""Referrals: the list (filtered), the overdue ones, and moving one to its next state.

The reason and the outcome note are clinical: shown only to roles with clinical referral
access; closing with a note needs that access too.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from app.api import adapters, policy
from app.api.deps import CurrentCtx, PageParams
from app.api.errors import responses
from app.api.params import IdPath, IdQuery
from db.models import Referral, ReferralStatus
from tools.access import patients_in_scope
from tools.limits import Text
from tools.referrals import advance_referral, overdue_referrals

router = APIRouter(prefix="/api/referrals", tags=["referrals"])


class Advance(BaseModel):
    to_status: ReferralStatus
    note: Text | None = Field(default=None, max_length=1000)
    outcome_rating: int | None = Field(default=None, ge=1, le=5)


@router.get("", responses=responses(403, 422))
def list_referrals(
    ctx: CurrentCtx,
    page: PageParams,
    status: Annotated[ReferralStatus | None, Query()] = None,
    patient_id: IdQuery = None,
) -> dict[str, Any]:
    """Referrals, newest first, filtered by state or patient."""
    ctx.require(*policy.REFERRALS, patient_id=patient_id, entity="referral")
    stmt = select(Referral).order_by(col(Referral.created_at).desc(), col(Referral.id).desc())
    if status:
        stmt = stmt.where(Referral.status == status)
    if patient_id is not None:
        stmt = stmt.where(Referral.patient_id == patient_id)
    scope = patients_in_scope(session=ctx.session, actor=ctx.actor)
    if scope is not None:
        stmt = stmt.where(col(Referral.patient_id).in_(scope or {-1}))
    rows = list(ctx.session.exec(stmt).all())
    items = page.slice(rows)
    ctx.audit_reads("referral", (r.patient_id for r in items))
    return page.envelope([adapters.referral_record(r, ctx.actor) for r in items], len(rows))


@router.get("/overdue", responses=responses(403, 422))
def overdue(ctx: CurrentCtx, page: PageParams) -> dict[str, Any]:
    """Referrals that stayed in their state longer than its limit, most overdue first."""
    ctx.require(*policy.REFERRALS, entity="referral")
    scope = patients_in_scope(session=ctx.session, actor=ctx.actor)
    rows = [
        o
        for o in overdue_referrals(
            session=ctx.session, limits=dict(ctx.settings.limits.referral_overdue_days)
        )
        if scope is None or o.referral.patient_id in scope
    ]
    items = page.slice(rows)
    ctx.audit_reads("referral", (o.referral.patient_id for o in items))
    out = [
        {
            **adapters.referral_record(o.referral, ctx.actor),
            "days_in_state": o.days_in_state,
            "limit_days": o.limit_days,
        }
        for o in items
    ]
    return page.envelope(out, len(rows))


@router.post("/{referral_id}/advance", responses=responses(403, 404, 409, 413, 422))
def advance(ctx: CurrentCtx, referral_id: IdPath, body: Advance) -> dict[str, Any]:
    """Move a referral to its next state (sent, accepted, scheduled, seen, ...)."""
    referral = ctx.session.get(Referral, referral_id)
    needs = policy.REFERRAL_CLINICAL if body.note else policy.REFERRALS
    ctx.require(*needs, patient_id=referral.patient_id if referral else None, entity="referral")
    done = advance_referral(
        session=ctx.session,
        referral_id=referral_id,
        to_status=body.to_status,
        note=body.note,
        outcome_rating=body.outcome_rating,
        actor=ctx.label,
    )
    return adapters.referral_record(done, ctx.actor)
