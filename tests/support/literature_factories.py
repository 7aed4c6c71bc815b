"""Small builders for literature tests: articles, protocols, watch topics and matches.

`make_article` builds an unsaved Article (for pure tests of summaries); the others insert
real rows and flush, so ids exist. `ScriptedComposer` stands in for the summary model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlmodel import Session

from db.models import (
    Article,
    ArticleMatch,
    ClinicalProtocol,
    EvidenceGrade,
    Practitioner,
    TopicKind,
    WatchTopic,
)
from tools.literature.text import title_key

_pmids = itertools.count(39_000_001)
_names = itertools.count(1)

STRUCTURED = [
    {"label": "BACKGROUND", "text": "Migraine is common and disabling."},
    {
        "label": "METHODS",
        "text": "We randomised 120 adults with episodic migraine to magnesium or placebo.",
    },
    {"label": "RESULTS", "text": "Attack frequency fell by 2.5 days per month vs. placebo."},
    {
        "label": "CONCLUSIONS",
        "text": "Magnesium reduced migraine frequency. It was well tolerated.",
    },
]


def make_article(
    *,
    title: str = "Magnesium for episodic migraine: a randomised trial",
    pmid: str | None = None,
    doi: str | None = None,
    grade: EvidenceGrade = EvidenceGrade.RCT,
    sections: Sequence[dict[str, str | None]] | None = None,
    abstract: str | None = None,
    journal: str | None = "Headache",
    pub_date: date | None = date(2025, 3, 1),
    retracted: bool = False,
    retraction_notes: Sequence[str] = (),
    url: str | None = None,
    sample_size: int | None = None,
    first_seen_at: datetime | None = None,
    updated_at: datetime | None = None,
    no_pmid: bool = False,
) -> Article:
    secs = [dict(s) for s in (STRUCTURED if sections is None else sections)]
    if abstract is None:
        abstract = "\n".join(
            f"{s['label']}: {s['text']}" if s.get("label") else str(s["text"]) for s in secs
        )
    seen = first_seen_at or datetime(2025, 3, 3, 9, tzinfo=UTC)
    return Article(
        pmid=None if no_pmid else (pmid or str(next(_pmids))),
        doi=doi,
        title=title,
        title_key=title_key(title),
        abstract=abstract,
        abstract_sections=secs,
        journal=journal,
        pub_date=pub_date,
        grade=grade,
        is_retracted=retracted,
        retraction_notes=list(retraction_notes),
        url=url,
        sample_size=sample_size,
        first_seen_at=seen,
        updated_at=updated_at or seen,
    )


def article(session: Session, **kwargs: object) -> Article:
    a = make_article(**kwargs)  # type: ignore[arg-type]
    session.add(a)
    session.flush()
    return a


def protocol(
    session: Session,
    *,
    title: str | None = None,
    condition: str = "IBS",
    owner: Practitioner | None = None,
    last_reviewed_on: date | None = None,
    interval_days: int = 365,
    keywords: Sequence[str] = (),
) -> ClinicalProtocol:
    p = ClinicalProtocol(
        title=title or f"Protocol {next(_names)}",
        condition=condition,
        keywords=list(keywords),
        owner_id=owner.id if owner else None,
        last_reviewed_on=last_reviewed_on,
        review_interval_days=interval_days,
    )
    session.add(p)
    session.flush()
    return p


def topic(
    session: Session,
    *,
    protocol: ClinicalProtocol | None = None,
    physician: Practitioner | None = None,
    name: str | None = None,
    terms: Sequence[str] = (),
    active: bool = True,
) -> WatchTopic:
    """A protocol topic when `protocol` is given, else an interest topic of `physician`."""
    kind = TopicKind.PROTOCOL if protocol is not None else TopicKind.INTEREST
    if kind == TopicKind.INTEREST and physician is None:
        raise ValueError("an interest topic needs a physician")
    t = WatchTopic(
        kind=kind,
        name=name or f"topic {next(_names)}",
        protocol_id=protocol.id if protocol else None,
        physician_id=physician.id if physician and kind == TopicKind.INTEREST else None,
        terms=list(terms),
        query=" OR ".join(terms) or "x",
        active=active,
    )
    session.add(t)
    session.flush()
    return t


def match(
    session: Session,
    *,
    article: Article,
    topic: WatchTopic,
    score: float = 0.8,
    terms: Sequence[str] = (),
    at: datetime | None = None,
) -> ArticleMatch:
    assert article.id is not None and topic.id is not None
    m = ArticleMatch(
        article_id=article.id,
        topic_id=topic.id,
        score=score,
        matched_terms=list(terms),
        matched_at=at or article.first_seen_at,
    )
    session.add(m)
    session.flush()
    return m
