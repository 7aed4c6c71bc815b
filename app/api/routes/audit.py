"""The audit trail, for admins: who read or changed which record, when and from where."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlmodel import col, func, select

from app.api import policy
from app.api.deps import CurrentCtx, PageParams
from app.api.errors import responses
from app.api.params import IdQuery
from db.models import AuditEvent
from tools.limits import Instant, Line

router = APIRouter(prefix="/api/audit", tags=["audit"])


@router.get("", responses=responses(403, 422))
def audit_log(
    ctx: CurrentCtx,
    page: PageParams,
    actor: Annotated[Line | None, Query(max_length=100)] = None,
    action: Annotated[Line | None, Query(max_length=60)] = None,
    entity: Annotated[Line | None, Query(max_length=60)] = None,
    patient_id: IdQuery = None,
    since: Annotated[Instant | None, Query(description="ISO date-time with a zone.")] = None,
) -> dict[str, Any]:
    """Audit events, newest first, filtered by actor, action, entity, patient or time."""
    ctx.require(*policy.AUDIT, entity="audit")
    conds: list[Any] = []
    if actor:
        conds.append(AuditEvent.actor == actor)
    if action:
        conds.append(AuditEvent.action == action)
    if entity:
        conds.append(AuditEvent.entity == entity)
    if patient_id is not None:
        conds.append(AuditEvent.patient_id == patient_id)
    if since is not None:
        conds.append(col(AuditEvent.at) >= since)
    total = ctx.session.exec(select(func.count()).select_from(AuditEvent).where(*conds)).one()
    rows = ctx.session.exec(
        select(AuditEvent)
        .where(*conds)
        .order_by(col(AuditEvent.id).desc())
        .offset(page.offset)
        .limit(page.limit)
    ).all()
    ctx.end_reads()
    ctx.audit("read", "audit", patient_id=patient_id)
    items = [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "patient_id": e.patient_id,
            "origin": e.origin,
        }
        for e in rows
    ]
    return page.envelope(items, int(total))
