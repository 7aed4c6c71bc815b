"""Does a new article go against the direction of a protocol's recommendation?

Only a language model can judge that, so this runs only when the agent layer supplies a
`ContradictionJudge`; without one every match stays unjudged (None), never "agrees". The
judge answers with a grounded reason (the agent layer's judge checks it against the article
and the protocol: agent.documents.verify.ground_judgement), which is what the physician reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, col, select

from db.models import (
    Article,
    ArticleMatch,
    ClinicalProtocol,
    EvidenceGrade,
    TopicKind,
    WatchTopic,
)

MIN_SCORE = 0.5
MIN_GRADE = EvidenceGrade.OBSERVATIONAL


@dataclass(frozen=True)
class Judgement:
    contradicts: bool
    reason: str  # one or two sentences citing [protocol:N] and the article's ref


class ContradictionJudge(Protocol):
    def judge(self, *, protocol: ClinicalProtocol, article: Article) -> Judgement | None:
        """None when the judge could not decide (model error, unreadable answer); a
        contradiction only with a reason citing the article or the protocol."""
        ...


def protocol_ref(protocol: ClinicalProtocol) -> str:
    return f"protocol:{protocol.id}"


def check_contradictions(
    *,
    session: Session,
    judge: ContradictionJudge,
    article_ids: Sequence[int] | None = None,
    min_score: float = MIN_SCORE,
) -> int:
    """Judge unjudged, relevant protocol matches of good-enough design; returns flags raised."""
    stmt = (
        select(ArticleMatch, Article, ClinicalProtocol)
        .join(Article, col(Article.id) == col(ArticleMatch.article_id))
        .join(WatchTopic, col(WatchTopic.id) == col(ArticleMatch.topic_id))
        .join(ClinicalProtocol, col(ClinicalProtocol.id) == col(WatchTopic.protocol_id))
        .where(
            WatchTopic.kind == TopicKind.PROTOCOL,
            col(ArticleMatch.contradicts).is_(None),
            col(ArticleMatch.score) >= min_score,
            col(Article.is_retracted).is_(False),
        )
    )
    if article_ids is not None:
        stmt = stmt.where(col(ArticleMatch.article_id).in_(list(article_ids)))
    flagged = 0
    for match, article, protocol in session.exec(stmt).all():
        if EvidenceGrade(article.grade).rank < MIN_GRADE.rank:
            continue
        judgement = judge.judge(protocol=protocol, article=article)
        if judgement is None:
            continue
        reason = judgement.reason.strip()
        match.contradicts = judgement.contradicts and bool(reason)
        match.contradiction_note = reason[:1000] if match.contradicts else None
        session.add(match)
        flagged += bool(match.contradicts)
    session.flush()
    return flagged
