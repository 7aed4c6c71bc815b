"""Protocol-review prompts: which clinical protocols are due a review, and why.

A protocol is due when its review interval has passed (or it was never reviewed), and/or
when strong new evidence arrived since its last review: an article matched to one of its
watch topics, graded randomised controlled trial or better, relevant enough, not retracted.
"New" means matched or first seen from the start of the day the protocol was last reviewed
and not already listed in an acknowledged review of it: an article that arrived on the review
day but was never shown in a review is prompted again rather than silently lost.

Each protocol has at most one review that is not acknowledged. It collects new evidence as
it arrives, a snoozed review stays quiet until its date (collecting evidence meanwhile), and
acknowledging closes it and records the review date on the protocol.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from db.engine import get_for_update, utcnow
from db.models import (
    Article,
    ArticleMatch,
    ClinicalProtocol,
    EvidenceGrade,
    ProtocolReview,
    ReviewReason,
    ReviewStatus,
    TopicKind,
    WatchTopic,
)
from prompts.loader import render
from tools import audit
from tools.citations import neutralise_citations
from tools.errors import InvalidInput, InvalidTransition, NotFound
from tools.literature.abstracts import article_link
from tools.registry import get_practitioner

STRONG_GRADES = tuple(g for g in EvidenceGrade if g.rank >= EvidenceGrade.RCT.rank)
PENDING = (ReviewStatus.OPEN, ReviewStatus.SNOOZED)
MAX_LISTED = 10  # evidence lines per prompt; the rest are counted


def weighted(score: float, grade: EvidenceGrade) -> float:
    """Relevance weighted by design strength: a systematic review counts double."""
    return score * (1 + grade.rank / 5)


def _audit(session: Session, actor: str, action: str, review_id: int | None) -> None:
    audit.record(
        session=session, actor=actor, action=action, entity="protocol_review", entity_id=review_id
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Evidence:
    article: Article
    score: float  # best relevance over the protocol's topics
    matched_terms: tuple[str, ...]


@dataclass
class ReviewDue:
    protocol: ClinicalProtocol
    interval_due: bool
    due_on: date | None  # when the interval ran out; None when never reviewed
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def reasons(self) -> list[ReviewReason]:
        out = [ReviewReason.INTERVAL] if self.interval_due else []
        return out + ([ReviewReason.EVIDENCE] if self.evidence else [])


def interval_due_on(protocol: ClinicalProtocol) -> date | None:
    if protocol.last_reviewed_on is None:
        return None
    return protocol.last_reviewed_on + timedelta(days=protocol.review_interval_days)


@dataclass
class _Hit:
    """One article's matches to one protocol's topics, merged."""

    article: Article
    score: float
    terms: set[str]
    arrived: datetime  # the latest of first seen and matched


def _matches_by_protocol(
    session: Session,
    *,
    protocol_ids: Sequence[int] | None,
    min_score: float,
    strong_only: bool,
    article_ids: Sequence[int] | None = None,
) -> dict[int, dict[int, _Hit]]:
    """{protocol id: {article id: hit}} over the protocols' active topics."""
    query = (
        select(ArticleMatch, WatchTopic.protocol_id, Article)
        .join(WatchTopic, col(WatchTopic.id) == ArticleMatch.topic_id)
        .join(Article, col(Article.id) == ArticleMatch.article_id)
        .where(
            WatchTopic.kind == TopicKind.PROTOCOL,
            col(WatchTopic.protocol_id).is_not(None),
            col(WatchTopic.active).is_(True),
            ArticleMatch.score >= min_score,
        )
    )
    if protocol_ids is not None:
        query = query.where(col(WatchTopic.protocol_id).in_(protocol_ids))
    if article_ids is not None:
        query = query.where(col(ArticleMatch.article_id).in_(article_ids))
    if strong_only:
        query = query.where(
            col(Article.grade).in_(STRONG_GRADES), col(Article.is_retracted).is_(False)
        )
    out: dict[int, dict[int, _Hit]] = defaultdict(dict)
    for match, protocol_id, article in session.exec(query).all():
        assert protocol_id is not None and article.id is not None
        arrived = max(match.matched_at, article.first_seen_at)
        hit = out[protocol_id].setdefault(article.id, _Hit(article, match.score, set(), arrived))
        hit.score = max(hit.score, match.score)
        hit.terms.update(match.matched_terms)
        hit.arrived = max(hit.arrived, arrived)
    return out


def _terms(terms: set[str]) -> tuple[str, ...]:
    return tuple(sorted(terms, key=str.casefold))


def due_reviews(
    *, session: Session, today: date, relevance_threshold: float = 0.5
) -> list[ReviewDue]:
    """Protocols due a review on `today` (a read: nothing is written)."""
    protocols = session.exec(select(ClinicalProtocol).order_by(col(ClinicalProtocol.id))).all()
    reviewed: dict[int, set[int]] = defaultdict(set)
    for review in session.exec(
        select(ProtocolReview).where(ProtocolReview.status == ReviewStatus.ACKNOWLEDGED)
    ).all():
        reviewed[review.protocol_id].update(review.article_ids)
    matches = _matches_by_protocol(
        session, protocol_ids=None, min_score=relevance_threshold, strong_only=True
    )
    end_of_today = _midnight(today + timedelta(days=1))
    due: list[ReviewDue] = []
    for protocol in protocols:
        assert protocol.id is not None
        due_on = interval_due_on(protocol)
        since = _midnight(protocol.last_reviewed_on) if protocol.last_reviewed_on else None
        evidence = [
            Evidence(hit.article, hit.score, _terms(hit.terms))
            for article_id, hit in matches[protocol.id].items()
            if hit.arrived < end_of_today
            and (since is None or hit.arrived >= since)
            and article_id not in reviewed[protocol.id]
        ]
        evidence.sort(key=lambda e: (-weighted(e.score, e.article.grade), e.article.id or 0))
        interval_due = due_on is None or due_on <= today
        if interval_due or evidence:
            due.append(ReviewDue(protocol, interval_due, due_on, evidence))
    return due


def open_reviews(
    *,
    session: Session,
    today: date,
    relevance_threshold: float = 0.5,
    now: datetime | None = None,
    actor: str = "system",
) -> list[ProtocolReview]:
    """Open or refresh one review per due protocol; return the reviews due now.

    Idempotent: a protocol's pending review gains only evidence it does not list yet. Snoozed
    reviews whose date has come reopen. Returns every open review, oldest first.
    """
    now = now or utcnow()
    for due in due_reviews(session=session, today=today, relevance_threshold=relevance_threshold):
        assert due.protocol.id is not None
        reviewed_on = due.protocol.last_reviewed_on
        # Lock the protocol: concurrent runs then see each other's review instead of adding one.
        protocol = get_for_update(session, ClinicalProtocol, due.protocol.id)
        if protocol is None or protocol.last_reviewed_on != reviewed_on:
            continue  # deleted or reviewed meanwhile: the next run decides afresh
        assert protocol.id is not None
        review = session.exec(
            select(ProtocolReview)
            .where(
                ProtocolReview.protocol_id == protocol.id, col(ProtocolReview.status).in_(PENDING)
            )
            .order_by(col(ProtocolReview.id))
        ).first()
        new_ids = [e.article.id for e in due.evidence if e.article.id is not None]
        if review is None:
            review = ProtocolReview(
                protocol_id=protocol.id,
                reason=ReviewReason.EVIDENCE if new_ids else ReviewReason.INTERVAL,
                article_ids=new_ids,
                created_at=now,
            )
            session.add(review)
            session.flush()
            _audit(session, actor, "open", review.id)
            continue
        missing = [i for i in new_ids if i not in review.article_ids]
        if missing:
            review.article_ids = [*review.article_ids, *missing]  # a new list: JSON change seen
            review.reason = ReviewReason.EVIDENCE
            session.add(review)
            _audit(session, actor, "add_evidence", review.id)
    for review in session.exec(
        select(ProtocolReview).where(
            ProtocolReview.status == ReviewStatus.SNOOZED,
            col(ProtocolReview.snoozed_until) <= today,
        )
    ).all():
        review.status = ReviewStatus.OPEN
        review.snoozed_until = None
        session.add(review)
        _audit(session, actor, "reopen", review.id)
    session.flush()
    return list(
        session.exec(
            select(ProtocolReview)
            .where(ProtocolReview.status == ReviewStatus.OPEN)
            .order_by(col(ProtocolReview.created_at), col(ProtocolReview.id))
        ).all()
    )


def _locked_review(session: Session, review_id: int) -> tuple[ProtocolReview, ClinicalProtocol]:
    # Protocol first, then review: the same lock order as open_reviews, so no deadlock.
    found = session.get(ProtocolReview, review_id)
    if found is None:
        raise NotFound("protocol review", review_id)
    protocol = get_for_update(session, ClinicalProtocol, found.protocol_id)
    review = get_for_update(session, ProtocolReview, review_id)
    if review is None or protocol is None:
        raise NotFound("protocol review", review_id)
    return review, protocol


def acknowledge_review(
    *,
    session: Session,
    review_id: int,
    by_id: int,
    now: datetime | None = None,
    reviewed_on: date | None = None,
    actor: str = "system",
) -> ProtocolReview:
    """Close a review; the protocol counts as reviewed on `reviewed_on` (default: now's date).

    Pass `reviewed_on` as the practice-local date when it may differ from the UTC date.
    """
    now = now or utcnow()
    review, protocol = _locked_review(session, review_id)
    if review.status == ReviewStatus.ACKNOWLEDGED:
        raise InvalidTransition(f"protocol review {review_id} is already acknowledged")
    get_practitioner(session=session, practitioner_id=by_id)
    review.status = ReviewStatus.ACKNOWLEDGED
    review.acknowledged_at = now
    review.acknowledged_by_id = by_id
    review.snoozed_until = None
    protocol.last_reviewed_on = reviewed_on or now.astimezone(UTC).date()
    session.add_all([review, protocol])
    _audit(session, actor, "acknowledge", review_id)
    session.flush()
    return review


def snooze_review(
    *,
    session: Session,
    review_id: int,
    until: date,
    today: date | None = None,
    actor: str = "system",
) -> ProtocolReview:
    """Quiet a review until `until` (a date after today); it then reopens by itself."""
    today = today or utcnow().date()
    if until <= today:
        raise InvalidInput(
            f"snooze date {until.isoformat()} must be after today ({today.isoformat()})"
        )
    review, _ = _locked_review(session, review_id)
    if review.status == ReviewStatus.ACKNOWLEDGED:
        raise InvalidTransition(
            f"protocol review {review_id} is acknowledged; it cannot be snoozed"
        )
    review.status = ReviewStatus.SNOOZED
    review.snoozed_until = until
    session.add(review)
    _audit(session, actor, "snooze", review_id)
    session.flush()
    return review


# ---------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class EvidenceLine:
    article_id: int
    ref: str
    title: str  # untrusted (citation-shaped brackets made inert); templates escape it
    grade_label: str
    relevance: float
    matched_terms: tuple[str, ...]
    url: str | None
    retracted: bool

    @property
    def relevance_line(self) -> str:
        return relevance_line(self.matched_terms, self.relevance)


def relevance_line(matched_terms: Sequence[str], relevance: float) -> str:
    """'matches: IBS, low-FODMAP; relevance 0.75' (what an article matched, and how well)."""
    terms = ", ".join(matched_terms)
    return (f"matches: {terms}; " if terms else "") + f"relevance {relevance:.2f}"


@dataclass
class ReviewPrompt:
    review_id: int
    protocol_id: int
    protocol_title: str
    owner_id: int | None
    reasons: list[ReviewReason]
    reason_line: str
    evidence: list[EvidenceLine]
    more: int = 0  # evidence not listed
    status: ReviewStatus = ReviewStatus.OPEN
    snoozed_until: date | None = None

    @property
    def heading(self) -> str:
        """'Protocol review due', or what happened to it (acknowledged, snoozed)."""
        if self.status == ReviewStatus.ACKNOWLEDGED:
            return "Protocol review acknowledged"
        if self.status == ReviewStatus.SNOOZED and self.snoozed_until is not None:
            return f"Protocol review snoozed until {self.snoozed_until.isoformat()}"
        return "Protocol review due"

    @property
    def refs(self) -> list[str]:
        return [e.ref for e in self.evidence]

    @property
    def markdown(self) -> str:
        return render("templates/digest/review_prompt.md.j2", review=self).strip()

    @property
    def text(self) -> str:
        return render("templates/digest/review_prompt.txt.j2", review=self).strip()


def _reason_line(protocol: ClinicalProtocol, reasons: list[ReviewReason]) -> str:
    parts = []
    if ReviewReason.EVIDENCE in reasons:
        since = protocol.last_reviewed_on
        parts.append(
            f"new evidence since the last review on {since.isoformat()}"
            if since
            else "new evidence"
        )
    if ReviewReason.INTERVAL in reasons:
        if protocol.last_reviewed_on is None:
            parts.append("never reviewed")
        else:
            parts.append(
                f"review interval passed: last reviewed {protocol.last_reviewed_on.isoformat()}, "
                f"every {protocol.review_interval_days} days"
            )
    return "; ".join(parts)


def _acknowledged_line(review: ProtocolReview, protocol: ClinicalProtocol) -> str:
    """An acknowledged review is not due: say who closed it and when the next one is."""
    who = f"by practitioner {review.acknowledged_by_id}" if review.acknowledged_by_id else ""
    line = f"acknowledged {who}".strip()
    if protocol.last_reviewed_on is not None:
        line += f"; protocol last reviewed {protocol.last_reviewed_on.isoformat()}"
    next_due = interval_due_on(protocol)
    return line + (f", next review by {next_due.isoformat()}" if next_due else "")


def review_prompts(
    *, session: Session, reviews: Sequence[ProtocolReview], today: date
) -> list[ReviewPrompt]:
    """What to show for each review: the protocol, why it is due, its evidence (best first)."""
    protocol_ids = sorted({r.protocol_id for r in reviews})
    article_ids = sorted({i for r in reviews for i in r.article_ids})
    matches = _matches_by_protocol(
        session,
        protocol_ids=protocol_ids,
        min_score=0.0,
        strong_only=False,
        article_ids=article_ids,
    )
    prompts = []
    for review in reviews:
        protocol = session.get(ClinicalProtocol, review.protocol_id)
        if protocol is None:
            continue
        found = matches.get(review.protocol_id, {})
        # Articles whose topic was removed or deactivated since are left out.
        hits = sorted(
            (found[i] for i in review.article_ids if i in found),
            key=lambda h: (not h.article.is_retracted, -weighted(h.score, h.article.grade)),
        )
        lines = [
            EvidenceLine(
                article_id=article_id,
                ref=h.article.ref,
                title=neutralise_citations(h.article.title),
                grade_label=h.article.grade.label,
                relevance=h.score,
                matched_terms=_terms(h.terms),
                url=article_link(h.article),
                retracted=h.article.is_retracted,
            )
            for h in hits
            if (article_id := h.article.id) is not None
        ]
        acknowledged = review.status == ReviewStatus.ACKNOWLEDGED
        due_on = interval_due_on(protocol)
        reasons = [ReviewReason.INTERVAL] if due_on is None or due_on <= today else []
        if lines:
            reasons.append(ReviewReason.EVIDENCE)
        reasons = [] if acknowledged else reasons or [review.reason]
        reason_line = (
            _acknowledged_line(review, protocol)
            if acknowledged
            else _reason_line(protocol, reasons)
        )
        assert review.id is not None and protocol.id is not None
        prompts.append(
            ReviewPrompt(
                review_id=review.id,
                protocol_id=protocol.id,
                protocol_title=protocol.title,
                owner_id=protocol.owner_id,
                reasons=reasons,
                reason_line=reason_line,
                evidence=lines[:MAX_LISTED],
                more=max(0, len(lines) - MAX_LISTED),
                status=review.status,
                snoozed_until=review.snoozed_until,
            )
        )
    return prompts


def pending_reviews(*, session: Session) -> list[tuple[ProtocolReview, ClinicalProtocol]]:
    """Open protocol reviews with their protocols, oldest first (opening them is a job's)."""
    rows = session.exec(
        select(ProtocolReview, ClinicalProtocol)
        .join(ClinicalProtocol, col(ClinicalProtocol.id) == col(ProtocolReview.protocol_id))
        .where(ProtocolReview.status == ReviewStatus.OPEN)
        .order_by(col(ProtocolReview.created_at), col(ProtocolReview.id))
    ).all()
    return [(r, p) for r, p in rows]
