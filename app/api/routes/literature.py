"""Research digests (the weekly document per physician) and protocol-review prompts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import col, select

from app.api import policy
from app.api.deps import CurrentCtx, PageParams
from app.api.errors import responses
from app.api.params import IdPath, IdQuery
from db.models import GeneratedDocument, ProtocolReview, ReviewStatus
from tools.access import Role
from tools.clock import today_in
from tools.errors import NotFound
from tools.limits import Day
from tools.literature.reviews import acknowledge_review, review_prompts, snooze_review

router = APIRouter(prefix="/api", tags=["literature"])


class Snooze(BaseModel):
    until: Day = Field(description="A day after today (practice time), up to 2100-12-31.")


def _doc(d: GeneratedDocument, *, text: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": d.id,
        "key": d.key,
        "title": d.title,
        "physician_id": d.practitioner_id,
        "week_start": d.for_date.isoformat() if d.for_date else None,
        "written_at": d.written_at.isoformat(),
    }
    if text:
        row["markdown"] = d.markdown
    return row


@router.get("/digests", responses=responses(403, 422))
def digests(ctx: CurrentCtx, page: PageParams, physician_id: IdQuery = None) -> dict[str, Any]:
    """Weekly research digests, newest first (default: yours, if you are a physician)."""
    ctx.require(*policy.DIGEST, entity="digest")
    if physician_id is None and ctx.actor.role == Role.PHYSICIAN:
        physician_id = ctx.actor.practitioner_id
    stmt = select(GeneratedDocument).where(GeneratedDocument.kind == "digest")
    if physician_id is not None:
        stmt = stmt.where(GeneratedDocument.practitioner_id == physician_id)
    stmt = stmt.order_by(col(GeneratedDocument.for_date).desc(), col(GeneratedDocument.id).desc())
    rows = list(ctx.session.exec(stmt).all())
    return page.envelope([_doc(d, text=False) for d in page.slice(rows)], len(rows))


@router.get("/digests/{digest_id}", responses=responses(403, 404, 422))
def digest(ctx: CurrentCtx, digest_id: IdPath) -> dict[str, Any]:
    """One digest with its Markdown (article text in it is external and escaped on display)."""
    ctx.require(*policy.DIGEST, entity="digest")
    d = ctx.session.get(GeneratedDocument, digest_id)
    if d is None or d.kind != "digest":
        raise NotFound("digest", digest_id)
    ctx.end_reads()
    ctx.audit("read", "document", entity_id=d.id)
    return _doc(d, text=True)


@router.get("/reviews", responses=responses(403, 422))
def reviews(
    ctx: CurrentCtx,
    page: PageParams,
    status: Annotated[Literal["open", "snoozed", "acknowledged", "all"], Query()] = "open",
) -> dict[str, Any]:
    """Protocol-review prompts: why each protocol is due and the evidence behind it."""
    ctx.require(*policy.REVIEWS, entity="protocol_review")
    stmt = select(ProtocolReview).order_by(col(ProtocolReview.created_at), col(ProtocolReview.id))
    if status != "all":
        stmt = stmt.where(ProtocolReview.status == ReviewStatus(status))
    rows = list(ctx.session.exec(stmt).all())
    chosen = page.slice(rows)
    prompts = review_prompts(session=ctx.session, reviews=chosen, today=today_in(ctx.settings.zone))
    by_id = {r.id: r for r in chosen}
    items = [
        {
            "id": p.review_id,
            "protocol_id": p.protocol_id,
            "protocol": p.protocol_title,
            "status": str(by_id[p.review_id].status),
            "reason": p.reason_line,
            "snoozed_until": (s.isoformat() if (s := by_id[p.review_id].snoozed_until) else None),
            "evidence": [
                {
                    "ref": e.ref,
                    "title": e.title,
                    "grade": e.grade_label,
                    "relevance": round(e.relevance, 2),
                    "retracted": e.retracted,
                }
                for e in p.evidence
            ],
            "more": p.more,
        }
        for p in prompts
    ]
    return page.envelope(items, len(rows))


@router.post("/reviews/{review_id}/ack", responses=responses(403, 404, 409, 422))
def acknowledge(ctx: CurrentCtx, review_id: IdPath) -> dict[str, Any]:
    """Acknowledge a review: the protocol counts as reviewed today."""
    ctx.require(*policy.REVIEWS, entity="protocol_review")
    review = acknowledge_review(
        session=ctx.session,
        review_id=review_id,
        by_id=ctx.actor.practitioner_id,
        reviewed_on=today_in(ctx.settings.zone),
        actor=ctx.label,
    )
    return {"id": review.id, "status": str(review.status)}


@router.post("/reviews/{review_id}/snooze", responses=responses(403, 404, 409, 413, 422))
def snooze(ctx: CurrentCtx, review_id: IdPath, body: Snooze) -> dict[str, Any]:
    """Quiet a review until a later date; it reopens by itself."""
    ctx.require(*policy.REVIEWS, entity="protocol_review")
    today = today_in(ctx.settings.zone)
    review = snooze_review(  # refuses a date that is not after today
        session=ctx.session, review_id=review_id, until=body.until, today=today, actor=ctx.label
    )
    return {"id": review.id, "status": str(review.status), "snoozed_until": body.until.isoformat()}
