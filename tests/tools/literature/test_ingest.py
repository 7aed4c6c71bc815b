"""Ingest: store, grade and score against every active topic; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, func, select

from db.models import Article, ArticleMatch, ClinicalProtocol
from tools.literature.ingest import ingest
from tools.literature.sources.harvest import (
    AbstractSection,
    ArticleRecord,
    FetchResult,
    SourceProblem,
)
from tools.literature.topics import sync_protocol_topics

NOW = datetime(2026, 11, 23, 6, tzinfo=UTC)


def _protocols(session: Session) -> None:
    session.add(
        ClinicalProtocol(
            title="IBS",
            condition="irritable bowel syndrome",
            keywords=["low FODMAP", "peppermint oil"],
        )
    )
    session.add(
        ClinicalProtocol(
            title="Migraine", condition="migraine", keywords=["acupuncture", "magnesium"]
        )
    )
    session.flush()
    sync_protocol_topics(session=session)


def _fetched() -> FetchResult:
    return FetchResult(
        articles=[
            ArticleRecord(
                title="Acupuncture for episodic migraine: a randomised trial",
                source="pubmed",
                pmid="39000010",
                publication_types=["Randomized Controlled Trial"],
                abstract_sections=[AbstractSection("RESULTS", "Of 240 participants, ...")],
            ),
            ArticleRecord(
                title="Low FODMAP diet in irritable bowel syndrome",
                source="pubmed",
                pmid="39000011",
                publication_types=["Review"],
            ),
            ArticleRecord(title="Urban heat islands and cycling", source="pubmed", pmid="39000012"),
        ],
        problems=[SourceProblem("feed:https://x", None, "HTTP 500")],
        requests=3,
    )


def test_ingest_scores_against_topics_and_is_idempotent(session: Session) -> None:
    _protocols(session)
    report = ingest(session=session, fetched=_fetched(), now=NOW)
    session.commit()
    assert (report.new, report.updated, report.matches) == (3, 0, 2)
    assert [str(p) for p in report.problems] == ["feed:https://x: HTTP 500"]
    matches = session.exec(select(ArticleMatch)).all()
    titles = {session.get(Article, m.article_id).pmid for m in matches}
    assert titles == {"39000010", "39000011"}  # the cycling paper matches nothing
    again = ingest(session=session, fetched=_fetched(), now=NOW)
    session.commit()
    assert (again.new, again.updated, again.unchanged, again.matches) == (0, 0, 3, 0)
    assert session.exec(select(func.count()).select_from(ArticleMatch)).one() == 2


def test_ingest_without_topics_still_stores(session: Session) -> None:
    report = ingest(session=session, fetched=_fetched(), now=NOW)
    assert report.new == 3 and report.matches == 0
