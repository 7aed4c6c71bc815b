"""Ingest: store what the sources found, then score every new or changed article per topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from db.engine import in_batches, utcnow
from db.models import Article, ArticleMatch
from tools.literature.articles import store_records
from tools.literature.contradiction import ContradictionJudge, check_contradictions
from tools.literature.sources.harvest import ArticleRecord, FetchResult, SourceProblem
from tools.literature.topic_relevance import (
    ArticleText,
    LexicalScorer,
    RelevanceScorer,
    TopicProfile,
)
from tools.literature.topics import active_topics, profile

# Below this an article is not shown for a topic at all.
MIN_RELEVANCE = 0.2
BATCH = 500


@dataclass
class IngestReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # repeats within this fetch
    merged: int = 0  # records that matched an article stored before
    matches: int = 0
    retractions: int = 0
    contradictions: int = 0  # judged only when a model is configured
    problems: list[SourceProblem] = field(default_factory=list)
    requests: int = 0
    new_article_ids: list[int] = field(default_factory=list)


def _text(a: Article) -> ArticleText:
    return ArticleText(
        title=a.title, abstract=a.abstract, indexed_terms=tuple(a.mesh_terms) + tuple(a.keywords)
    )


def score_articles(
    *,
    session: Session,
    articles: Sequence[Article],
    scorer: RelevanceScorer | None = None,
    now: datetime | None = None,
    profiles: Sequence[TopicProfile] | None = None,
) -> int:
    """Match articles to the topics (default: the active ones); keeps the best score per
    (article, topic)."""
    now = now or utcnow()
    scorer = scorer or LexicalScorer()
    if profiles is None:
        profiles = [profile(t) for t in active_topics(session=session)]
    if not profiles or not articles:
        return 0
    ids = [a.id for a in articles if a.id is not None]
    existing: dict[tuple[int, int], ArticleMatch] = {}
    for batch in in_batches(ids):
        for m in session.exec(
            select(ArticleMatch).where(col(ArticleMatch.article_id).in_(batch))
        ).all():
            existing[(m.article_id, m.topic_id)] = m
    made = 0
    for article in articles:
        assert article.id is not None
        for rel in scorer.score(_text(article), profiles):
            if rel.score < MIN_RELEVANCE:
                continue
            match = existing.get((article.id, rel.topic_id))
            if match is None:
                session.add(
                    ArticleMatch(
                        article_id=article.id,
                        topic_id=rel.topic_id,
                        score=rel.score,
                        matched_terms=list(rel.matched_terms),
                        matched_at=now,
                    )
                )
                made += 1
            elif rel.score > match.score:
                match.score, match.matched_terms = rel.score, list(rel.matched_terms)
                session.add(match)
    session.flush()
    return made


def ingest(
    *,
    session: Session,
    fetched: FetchResult,
    scorer: RelevanceScorer | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    judge: ContradictionJudge | None = None,
) -> IngestReport:
    """Store, grade and score a fetch result, in batches; problems are carried through."""
    now = now or utcnow()
    report = IngestReport(problems=list(fetched.problems), requests=fetched.requests)
    # Topics and the scorer (and its phrase cache) serve every batch of this fetch.
    scorer = scorer or LexicalScorer()
    profiles = [profile(t) for t in active_topics(session=session)]
    records: list[ArticleRecord] = fetched.articles
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        stored = store_records(session=session, records=batch, now=now)
        report.new += len(stored.new)
        report.updated += len(stored.updated)
        report.unchanged += stored.unchanged
        report.duplicates += stored.duplicates_in_batch
        report.merged += stored.merged
        report.retractions += sum(a.is_retracted for a in stored.new) + len(stored.newly_retracted)
        report.new_article_ids += [a.id for a in stored.new if a.id is not None]
        report.matches += score_articles(
            session=session, articles=stored.touched, scorer=scorer, now=now, profiles=profiles
        )
        if judge is not None:
            touched = [a.id for a in stored.touched if a.id is not None]
            report.contradictions += check_contradictions(
                session=session, judge=judge, article_ids=touched
            )
        if progress:
            progress(min(start + BATCH, len(records)), len(records))
    return report
