"""Research tracking: articles, watch topics, topic matches, feed state, protocol reviews."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import enum_column


class EvidenceGrade(StrEnum):
    """From strongest to weakest design; `rank` orders them (higher is stronger)."""

    SYSTEMATIC_REVIEW = "systematic_review"  # incl. meta-analysis
    RCT = "rct"
    OBSERVATIONAL = "observational"  # cohort, case-control, cross-sectional
    CASE_REPORT = "case_report"  # case series and reports
    NARRATIVE = "narrative"  # narrative review, editorial, opinion, guideline commentary
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _GRADE_RANK[self]

    @property
    def label(self) -> str:
        return _GRADE_LABEL[self]


_GRADE_RANK = {
    EvidenceGrade.SYSTEMATIC_REVIEW: 5,
    EvidenceGrade.RCT: 4,
    EvidenceGrade.OBSERVATIONAL: 3,
    EvidenceGrade.CASE_REPORT: 2,
    EvidenceGrade.NARRATIVE: 1,
    EvidenceGrade.UNKNOWN: 0,
}
_GRADE_LABEL = {
    EvidenceGrade.SYSTEMATIC_REVIEW: "systematic review / meta-analysis",
    EvidenceGrade.RCT: "randomised controlled trial",
    EvidenceGrade.OBSERVATIONAL: "observational study (cohort / case-control)",
    EvidenceGrade.CASE_REPORT: "case series / case report",
    EvidenceGrade.NARRATIVE: "narrative review / opinion",
    EvidenceGrade.UNKNOWN: "design not stated",
}


class TopicKind(StrEnum):
    PROTOCOL = "protocol"
    INTEREST = "interest"


class ReviewStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"


class ReviewReason(StrEnum):
    INTERVAL = "interval"
    EVIDENCE = "evidence"


def article_ref(pmid: str | None, doi: str | None, article_id: int | None) -> str:
    """pmid:N, else doi:X, else article:ID: the one rule for citing (and indexing) an article."""
    if pmid:
        return f"pmid:{pmid}"
    if doi:
        return f"doi:{doi}"
    return f"article:{article_id}"


class Article(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    pmid: str | None = Field(default=None, max_length=20, unique=True)
    doi: str | None = Field(default=None, max_length=255, unique=True)
    title: str
    # Lower-case, accent- and punctuation-free title: the last resort for deduplication.
    title_key: str = Field(max_length=500, index=True)
    abstract: str = ""
    abstract_sections: list[dict[str, str | None]] = Field(default_factory=list, sa_type=sa.JSON)
    journal: str | None = Field(default=None, max_length=300)
    pub_date: date | None = Field(default=None, index=True)
    pub_date_text: str | None = Field(default=None, max_length=60)
    authors: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    publication_types: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    mesh_terms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    keywords: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    is_retracted: bool = Field(default=False, index=True)
    retraction_notes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    url: str | None = Field(default=None, max_length=1000)
    sources: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    grade: EvidenceGrade = Field(
        default=EvidenceGrade.UNKNOWN, sa_type=enum_column(EvidenceGrade), index=True
    )
    sample_size: int | None = None
    first_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def ref(self) -> str:
        """The source reference documents cite: pmid:N, else doi:X, else article:ID."""
        return article_ref(self.pmid, self.doi, self.id)


class WatchTopic(SQLModel, table=True):
    """A subject the practice watches: from a clinical protocol or a physician's interest."""

    __tablename__ = "watch_topic"
    __table_args__ = (
        sa.UniqueConstraint("kind", "protocol_id", "physician_id", "name", name="uq_watch_topic"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: TopicKind = Field(sa_type=enum_column(TopicKind))
    name: str = Field(max_length=200)
    protocol_id: int | None = Field(
        default=None, foreign_key="clinical_protocol.id", index=True, ondelete="CASCADE"
    )
    physician_id: int | None = Field(
        default=None, foreign_key="practitioner.id", index=True, ondelete="CASCADE"
    )
    terms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    mesh_terms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    query: str = Field(description="the PubMed query this topic runs")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ArticleMatch(SQLModel, table=True):
    """How relevant an article is to a topic (0..1), found when it was ingested."""

    __tablename__ = "article_match"
    __table_args__ = (sa.UniqueConstraint("article_id", "topic_id", name="uq_article_topic"),)

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True, ondelete="CASCADE")
    topic_id: int = Field(foreign_key="watch_topic.id", index=True, ondelete="CASCADE")
    score: float = Field(ge=0.0, le=1.0)
    matched_terms: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    matched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Judged only when a language model is configured: None means not judged.
    contradicts: bool | None = None
    contradiction_note: str | None = Field(default=None, max_length=1000)


class FeedState(SQLModel, table=True):
    """Per feed: validators for conditional GET and how the last fetch went."""

    __tablename__ = "feed_state"

    url: str = Field(primary_key=True, max_length=1000)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    last_fetched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    entries_seen: int = 0


class ProtocolReview(SQLModel, table=True):
    """A prompt to review a clinical protocol: its interval passed or new evidence arrived."""

    __tablename__ = "protocol_review"

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: int = Field(foreign_key="clinical_protocol.id", index=True, ondelete="CASCADE")
    reason: ReviewReason = Field(sa_type=enum_column(ReviewReason))
    article_ids: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    status: ReviewStatus = Field(
        default=ReviewStatus.OPEN, sa_type=enum_column(ReviewStatus), index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    snoozed_until: date | None = None
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by_id: int | None = Field(default=None, foreign_key="practitioner.id")
