"""Storing articles: one row per paper, whichever sources it came from.

A record matches a stored article on PMID, then DOI, then normalised title (long titles
only: 'Editorial' is many papers). Re-ingesting the same record changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, or_, select

from db.engine import in_batches, utcnow
from db.models import Article
from tools.errors import InvalidInput
from tools.literature.abstracts import estimate_sample_size
from tools.literature.grading import grade
from tools.literature.sources.harvest import ArticleRecord
from tools.literature.text import title_key

MIN_TITLE_KEY = 25  # shorter titles are too generic to identify a paper


@dataclass
class StoreResult:
    new: list[Article] = field(default_factory=list)
    updated: list[Article] = field(default_factory=list)
    unchanged: int = 0
    duplicates_in_batch: int = 0
    merged: int = 0  # records that matched an article already stored
    newly_retracted: list[Article] = field(default_factory=list)

    @property
    def touched(self) -> list[Article]:
        return self.new + self.updated


def _union(a: Sequence[str], b: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def _key(record: ArticleRecord) -> str | None:
    key = title_key(record.title)
    return key if len(key) >= MIN_TITLE_KEY else None


def _merge(article: Article, r: ArticleRecord) -> bool:
    """Fill what the stored article lacks; PubMed's indexing wins. True when something changed."""
    before = article.model_dump()
    graded_from = (tuple(article.publication_types), article.title, article.abstract)
    from_pubmed = r.source == "pubmed" or bool(r.publication_types)
    if r.pmid and not article.pmid:
        article.pmid = r.pmid
    if r.doi and not article.doi:
        article.doi = r.doi
    had_pubmed = bool(article.publication_types) or "pubmed" in article.sources
    longer = len(r.abstract) > len(article.abstract)
    if r.abstract_sections and (from_pubmed or (longer and not had_pubmed)):
        article.abstract_sections = [
            {"label": s.label, "text": s.text} for s in r.abstract_sections
        ]
        article.abstract = r.abstract
    if from_pubmed:
        article.title = r.title or article.title
        article.publication_types = _union(article.publication_types, r.publication_types)
        article.mesh_terms = _union(article.mesh_terms, r.mesh_terms)
    article.keywords = _union(article.keywords, r.keywords)
    article.authors = article.authors or list(r.authors)
    article.journal = article.journal or r.journal
    if r.pub_date and (article.pub_date is None or from_pubmed):
        article.pub_date, article.pub_date_text = r.pub_date, r.pub_date_text
    article.url = article.url or r.url
    # Once retracted, always retracted: a later feed copy without the flag changes nothing.
    article.is_retracted = article.is_retracted or r.is_retracted
    article.retraction_notes = _union(article.retraction_notes, r.retraction_notes)
    article.sources = _union(article.sources, [r.source])
    if (tuple(article.publication_types), article.title, article.abstract) != graded_from:
        article.grade = grade(
            publication_types=article.publication_types,
            title=article.title,
            abstract=article.abstract,
        )
        article.title_key = title_key(article.title)
        article.sample_size = estimate_sample_size(article.abstract)
    return article.model_dump() != before


def _new(r: ArticleRecord, now: datetime) -> Article:
    article = Article(
        pmid=r.pmid,
        doi=r.doi,
        title=r.title,
        title_key=title_key(r.title),
        abstract=r.abstract,
        abstract_sections=[{"label": s.label, "text": s.text} for s in r.abstract_sections],
        journal=r.journal,
        pub_date=r.pub_date,
        pub_date_text=r.pub_date_text,
        authors=list(r.authors),
        publication_types=list(r.publication_types),
        mesh_terms=list(r.mesh_terms),
        keywords=list(r.keywords),
        is_retracted=r.is_retracted,
        retraction_notes=list(r.retraction_notes),
        url=r.url,
        sources=[r.source],
        first_seen_at=now,
        updated_at=now,
    )
    article.grade = grade(publication_types=r.publication_types, title=r.title, abstract=r.abstract)
    article.sample_size = estimate_sample_size(r.abstract)
    return article


def store_records(
    *, session: Session, records: Sequence[ArticleRecord], now: datetime | None = None
) -> StoreResult:
    """Insert new papers and merge known ones; three lookups per call, whatever its size."""
    now = now or utcnow()
    result = StoreResult()
    pmids = {r.pmid for r in records if r.pmid}
    dois = {r.doi for r in records if r.doi}
    keys = {k for r in records if (k := _key(r))}
    by_pmid: dict[str, Article] = {}
    by_doi: dict[str, Article] = {}
    by_key: dict[str, Article] = {}

    def index(a: Article) -> None:
        if a.pmid:
            by_pmid[a.pmid] = a
        if a.doi:
            by_doi[a.doi] = a
        if len(a.title_key) >= MIN_TITLE_KEY:
            by_key.setdefault(a.title_key, a)

    for chunk_of, column in ((pmids, Article.pmid), (dois, Article.doi), (keys, Article.title_key)):
        values = sorted(chunk_of)
        for batch in in_batches(values):
            for a in session.exec(select(Article).where(col(column).in_(batch))).all():
                index(a)
    seen_new: set[int] = set()
    for r in records:
        k = _key(r)
        article = (by_pmid.get(r.pmid) if r.pmid else None) or (
            by_doi.get(r.doi) if r.doi else None
        )
        if article is None and k and (candidate := by_key.get(k)) is not None:
            # Same title, but a different PMID or DOI: two papers (e.g. a reply, a part 2).
            clash = (r.pmid and candidate.pmid and r.pmid != candidate.pmid) or (
                r.doi and candidate.doi and r.doi != candidate.doi
            )
            article = None if clash else candidate
        if article is None:
            article = _new(r, now)
            session.add(article)
            result.new.append(article)
            seen_new.add(id(article))
            index(article)
            continue
        was_retracted = article.is_retracted
        if id(article) in seen_new:
            result.duplicates_in_batch += 1
            _merge(article, r)
            index(article)
            continue
        result.merged += 1
        # Don't take a PMID or DOI another stored article already holds.
        if r.pmid and r.pmid in by_pmid and by_pmid[r.pmid] is not article:
            r.pmid = None
        if r.doi and r.doi in by_doi and by_doi[r.doi] is not article:
            r.doi = None
        if _merge(article, r):
            if article.is_retracted and not was_retracted:
                result.newly_retracted.append(article)
            article.updated_at = now
            session.add(article)
            if article not in result.updated:
                result.updated.append(article)
        else:
            result.unchanged += 1
        index(article)
    session.flush()
    return result


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
