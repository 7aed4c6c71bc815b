"""Read-only look-ups the assistant needs that no other operation offered: article search,
articles by reference, pending protocol reviews and one day's appointments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, or_, select

from tools.clock import local_day_bounds
from tools.errors import InvalidInput
from tools.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    Article,
    ClinicalProtocol,
    ProtocolReview,
    ReviewStatus,
)
from tools.registry import get_practitioner


def search_articles(*, session: Session, text: str, limit: int = 10) -> list[Article]:
    """Stored articles whose title or abstract holds every word of `text`, newest first."""
    words = [w for w in text.lower().split() if len(w) > 1][:8]
    if not words:
        raise InvalidInput("give some words to search the literature for")
    stmt = select(Article)
    for word in words:
        stmt = stmt.where(
            or_(
                func.lower(col(Article.title)).contains(word),
                func.lower(col(Article.abstract)).contains(word),
            )
        )
    stmt = stmt.order_by(col(Article.pub_date).desc(), col(Article.id).desc()).limit(limit)
    return list(session.exec(stmt).all())


def articles_by_ref(*, session: Session, refs: Sequence[str]) -> list[Article]:
    """Articles named by 'pmid:N', 'doi:X' or 'article:ID' (unknown references are skipped)."""
    pmids, dois, ids = [], [], []
    for ref in refs:
        kind, _, value = ref.strip().partition(":")
        if kind == "pmid" and value:
            pmids.append(value)
        elif kind == "doi" and value:
            dois.append(value.lower())
        elif kind == "article" and value.isdigit():
            ids.append(int(value))
        else:
            raise InvalidInput(f"{ref!r} is not an article reference (pmid:N, doi:X, article:ID)")
    clauses = []
    if pmids:
        clauses.append(col(Article.pmid).in_(pmids))
    if dois:
        clauses.append(col(Article.doi).in_(dois))
    if ids:
        clauses.append(col(Article.id).in_(ids))
    if not clauses:
        return []
    return list(session.exec(select(Article).where(or_(*clauses))).all())


def pending_reviews(*, session: Session) -> list[tuple[ProtocolReview, ClinicalProtocol]]:
    """Open protocol reviews with their protocols, oldest first (opening them is a job's)."""
    rows = session.exec(
        select(ProtocolReview, ClinicalProtocol)
        .join(ClinicalProtocol, col(ClinicalProtocol.id) == col(ProtocolReview.protocol_id))
        .where(ProtocolReview.status == ReviewStatus.OPEN)
        .order_by(col(ProtocolReview.created_at), col(ProtocolReview.id))
    ).all()
    return [(r, p) for r, p in rows]


def day_appointments(
    *, session: Session, day: date, tz: ZoneInfo, practitioner_id: int | None = None
) -> list[Appointment]:
    """Held appointments on a practice-local day, by practitioner then time."""
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
    stmt = stmt.order_by(col(Appointment.practitioner_id), col(Appointment.starts_at))
    return list(session.exec(stmt).all())
