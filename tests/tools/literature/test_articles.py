"""Storing articles: one row per paper across sources, idempotent re-ingest."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, func, select

from db.models import Article, EvidenceGrade
from tools.literature.articles import store_records
from tools.literature.sources.harvest import AbstractSection, ArticleRecord

T0 = datetime(2026, 11, 16, 8, tzinfo=UTC)
T1 = datetime(2026, 11, 23, 8, tzinfo=UTC)
TITLE = "Peppermint oil for irritable bowel syndrome: a randomised controlled trial"


def pubmed(**extra: object) -> ArticleRecord:
    base: dict[str, object] = dict(
        title=TITLE,
        source="pubmed",
        pmid="39000001",
        doi="10.5555/ibs.2026.001",
        abstract_sections=[
            AbstractSection("METHODS", "We randomised 120 adults."),
            AbstractSection("CONCLUSIONS", "Symptoms improved."),
        ],
        journal="Gut Trials",
        pub_date=date(2026, 11, 1),
        publication_types=["Randomized Controlled Trial"],
        mesh_terms=["Irritable Bowel Syndrome", "Mentha piperita"],
    )
    base.update(extra)
    return ArticleRecord(**base)  # type: ignore[arg-type]


def feed(**extra: object) -> ArticleRecord:
    base: dict[str, object] = dict(
        title="Peppermint Oil for Irritable Bowel Syndrome — a Randomised Controlled Trial.",
        source="feed:https://journal.example/rss",
        doi=None,
        abstract_sections=[AbstractSection(None, "Short teaser.")],
        url="https://journal.example/a/1",
    )
    base.update(extra)
    return ArticleRecord(**base)  # type: ignore[arg-type]


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Article)).one()


def test_same_paper_from_pubmed_and_feed_is_one_article(session: Session) -> None:
    first = store_records(session=session, records=[feed()], now=T0)
    assert len(first.new) == 1 and first.new[0].grade == EvidenceGrade.RCT  # from the title
    second = store_records(session=session, records=[pubmed()], now=T1)
    session.commit()
    assert count(session) == 1 and len(second.updated) == 1
    a = session.exec(select(Article)).one()
    assert (a.pmid, a.doi) == ("39000001", "10.5555/ibs.2026.001")
    assert a.sources == ["feed:https://journal.example/rss", "pubmed"]
    assert a.abstract.startswith("METHODS: We randomised 120 adults.")  # PubMed's abstract wins
    assert a.title == TITLE and a.url == "https://journal.example/a/1"
    assert a.first_seen_at == T0 and a.updated_at == T1


def test_matching_by_pmid_then_doi(session: Session) -> None:
    store_records(session=session, records=[pubmed()], now=T0)
    by_doi = store_records(
        session=session, records=[feed(title="Different title", doi="10.5555/ibs.2026.001")], now=T1
    )
    by_pmid = store_records(session=session, records=[feed(title="Other", pmid="39000001")], now=T1)
    session.commit()
    assert count(session) == 1
    assert by_doi.new == [] and by_pmid.new == []


def test_reingest_is_idempotent(session: Session) -> None:
    store_records(session=session, records=[pubmed(), feed()], now=T0)
    session.commit()
    again = store_records(session=session, records=[pubmed(), feed()], now=T1)
    session.commit()
    assert again.new == [] and again.updated == [] and again.unchanged == 2
    assert count(session) == 1
    assert session.exec(select(Article)).one().updated_at == T0


def test_duplicates_in_one_batch_and_short_titles(session: Session) -> None:
    result = store_records(
        session=session,
        records=[
            pubmed(),
            pubmed(),
            feed(title="Editorial"),
            feed(title="Editorial", url="https://x/2"),
        ],
        now=T0,
    )
    session.commit()
    assert result.duplicates_in_batch == 1
    assert count(session) == 3  # two "Editorial"s are not assumed to be one paper


def test_retraction_sticks(session: Session) -> None:
    store_records(
        session=session,
        records=[pubmed(is_retracted=True, retraction_notes=["Retraction in: Gut Trials. 2026"])],
        now=T0,
    )
    store_records(session=session, records=[feed()], now=T1)
    session.commit()
    a = session.exec(select(Article)).one()
    assert a.is_retracted and a.retraction_notes == ["Retraction in: Gut Trials. 2026"]


def test_same_title_but_different_ids_are_two_papers(session: Session) -> None:
    store_records(session=session, records=[pubmed()], now=T0)
    other = store_records(
        session=session, records=[pubmed(pmid="39000099", doi="10.5555/ibs.2026.099")], now=T1
    )
    session.commit()
    assert len(other.new) == 1 and count(session) == 2


def test_a_retracted_feed_title_is_the_same_paper(session: Session) -> None:
    first = store_records(
        session=session,
        records=[feed(title="RETRACTED: " + TITLE, is_retracted=True)],
        now=T0,
    )
    assert len(first.new) == 1
    later = store_records(session=session, records=[pubmed(), feed(url="https://x/3")], now=T1)
    session.commit()
    assert later.new == [] and count(session) == 1
    assert later.newly_retracted == []  # it was flagged already
    a = session.exec(select(Article)).one()
    assert a.is_retracted and a.title == TITLE and a.sample_size == 120
