"""The weekly research digest for one physician: Markdown, HTML and plain text.

Topics: the physician's own interest topics, plus every protocol topic of the practice (a
small practice shares its protocols), the physician's own protocols listed first. The week is
the ISO week (Monday to Sunday) containing `week_of`, in the practice's zone. Articles are the
topic matches made that week, each once (under its best-matching topic), ranked by relevance
x grade weight and grouped by protocol, interests under "Your interests". Retractions come
first, in their own section: any retracted article ever matched to those topics whose record
changed (the retraction arrived) or was matched this week. Then the protocol reviews due for
protocols the physician owns or that have no owner.

Item summaries are extractive and cite their article; with a composer, one model call adds a
short overview of the week's strongest articles, verified with their facts (references,
numbers and dates: agent.documents.verify) like every other document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from agent.documents.render import template
from agent.evidence.summaries import SummaryComposer, summarise
from db.engine import as_utc, utcnow
from db.models import (
    Article,
    ArticleMatch,
    ClinicalProtocol,
    Practitioner,
    TopicKind,
    WatchTopic,
)
from prompts.loader import markdown_escape, render
from tools.citations import cite, find_refs, neutralise_citations
from tools.generated_documents import save_document
from tools.literature.abstracts import article_link, key_sentences, publication_line
from tools.literature.reviews import (
    ReviewPrompt,
    open_reviews,
    relevance_line,
    review_prompts,
    weighted,
)
from tools.registry import get_practitioner

INTERESTS = "Your interests"
_HEADING_MARK = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
MAX_PER_SECTION = 10
OVERVIEW_ARTICLES = 8


@dataclass
class DigestItem:
    article_id: int
    ref: str
    title: str  # untrusted: the templates escape it
    publication: str  # journal, date
    grade_label: str
    relevance: float
    rank_score: float
    matched_terms: tuple[str, ...]
    summary_text: str  # one or two sentences, each citing `ref`
    summary_md: str
    url: str | None
    retraction_note: str | None = None
    # A model's grounded judgement that this goes against a protocol (None: not flagged).
    contradiction_note: str | None = None

    @property
    def relevance_line(self) -> str:
        return relevance_line(self.matched_terms, self.relevance)


@dataclass
class DigestSection:
    title: str
    protocol_id: int | None  # None: "Your interests"
    owned: bool
    items: list[DigestItem]
    more: int = 0  # matches this week not listed


@dataclass
class Digest:
    physician: Practitioner
    week_start: date
    week_end: date
    sections: list[DigestSection]
    retractions: list[DigestItem]
    reviews: list[ReviewPrompt]
    markdown: str
    html: str
    text: str
    refs: list[str]
    empty: bool  # no new articles and no retractions this week
    subject: str = ""
    overview: str | None = None  # verified model text, when a composer was given and it held
    overview_dropped: int = 0
    overview_paragraphs: list[str] = field(default_factory=list)


def week_bounds(week_of: date, tz: ZoneInfo) -> tuple[date, date, datetime, datetime]:
    """Monday and Sunday of the ISO week holding `week_of`, and its UTC span [start, end)."""
    monday = week_of - timedelta(days=week_of.weekday())
    sunday = monday + timedelta(days=6)
    start = datetime.combine(monday, time.min, tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)
    return monday, sunday, as_utc(start), as_utc(end)


def _item(article: Article, score: float, terms: set[str]) -> DigestItem:
    assert article.id is not None
    ref = article.ref
    sentences = key_sentences(article, limit=2)
    if not sentences:
        sentences = ["No abstract is available."]
    note = article.retraction_notes[0] if article.retraction_notes else None
    return DigestItem(
        article_id=article.id,
        ref=ref,
        title=neutralise_citations(article.title),
        publication=neutralise_citations(publication_line(article)),
        grade_label=article.grade.label,
        relevance=score,
        rank_score=weighted(score, article.grade),
        matched_terms=tuple(sorted(terms, key=str.casefold)),
        summary_text=" ".join(cite(s, ref) for s in sentences),
        summary_md=" ".join(cite(markdown_escape(s), ref) for s in sentences),
        url=article_link(article),
        retraction_note=neutralise_citations(note).rstrip(". ") if note else None,
    )


def _rank_key(item: DigestItem) -> tuple[float, str]:
    return (-item.rank_score, item.ref)


def _week_label(monday: date, sunday: date) -> str:
    return f"{monday:%a} {monday.day} {monday:%b} - {sunday:%a} {sunday.day} {sunday:%b %Y}"


Best = tuple[Article, float, WatchTopic, set[str]]  # article, score, its topic, all terms


def build_digest(
    *,
    session: Session,
    physician_id: int,
    week_of: date,
    tz: ZoneInfo,
    composer: SummaryComposer | None = None,
    now: datetime | None = None,
    relevance_threshold: float = 0.5,
) -> Digest:
    """The digest for the week holding `week_of`; opens due protocol reviews as it goes."""
    physician = get_practitioner(session=session, practitioner_id=physician_id)
    monday, sunday, start, end = week_bounds(week_of, tz)
    protocols = {p.id: p for p in session.exec(select(ClinicalProtocol)).all()}
    owned = {pid for pid, p in protocols.items() if p.owner_id == physician_id}
    topics = _topics(session, physician_id)
    rows = _week_matches(session, topics, start, end)
    best, contradictions = _best_matches(rows, topics, owned)
    retractions, groups, articles_by_id = _items(best, contradictions)
    sections = _sections(groups, protocols, owned)
    now = now or utcnow()
    today = min(sunday, now.astimezone(tz).date())
    reviews = _reviews_due(
        session,
        physician_id=physician_id,
        protocols=protocols,
        today=today,
        now=now,
        relevance_threshold=relevance_threshold,
    )
    overview, overview_dropped = _overview(sections, articles_by_id, composer)
    return _render(
        physician=physician,
        monday=monday,
        sunday=sunday,
        sections=sections,
        retractions=retractions,
        reviews=reviews,
        overview=overview,
        overview_dropped=overview_dropped,
    )


def _topics(session: Session, physician_id: int) -> dict[int | None, WatchTopic]:
    """Every active protocol topic of the practice, and the physician's own interests."""
    return {
        t.id: t
        for t in session.exec(
            select(WatchTopic).where(
                col(WatchTopic.active).is_(True),
                or_(
                    WatchTopic.kind == TopicKind.PROTOCOL,
                    (WatchTopic.kind == TopicKind.INTEREST)
                    & (WatchTopic.physician_id == physician_id),
                ),
            )
        ).all()
    }


def _week_matches(
    session: Session, topics: dict[int | None, WatchTopic], start: datetime, end: datetime
) -> Sequence[tuple[ArticleMatch, Article]]:
    """Matches to these topics made this week, and those of articles retracted this week."""
    in_week = (col(ArticleMatch.matched_at) >= start) & (col(ArticleMatch.matched_at) < end)
    return session.exec(
        select(ArticleMatch, Article)
        .join(Article, col(Article.id) == ArticleMatch.article_id)
        .where(
            col(ArticleMatch.topic_id).in_(list(topics)),
            or_(
                in_week,
                col(Article.is_retracted).is_(True)
                & (col(Article.updated_at) >= start)
                & (col(Article.updated_at) < end),
            ),
        )
    ).all()


def _best_matches(
    rows: Sequence[tuple[ArticleMatch, Article]],
    topics: dict[int | None, WatchTopic],
    owned: set[int | None],
) -> tuple[dict[int, Best], dict[int, str]]:
    """Each article once, under its best-matching topic (with every term it matched), and
    the contradiction notes raised against the protocols."""

    def tier(topic: WatchTopic) -> int:  # ties between topics: own protocols, interests, others
        if topic.kind == TopicKind.INTEREST:
            return 1
        return 0 if topic.protocol_id in owned else 2

    best: dict[int, Best] = {}
    contradictions: dict[int, str] = {}
    for match, article in rows:
        assert article.id is not None
        if match.contradicts and match.contradiction_note:
            contradictions[article.id] = match.contradiction_note
        topic = topics[match.topic_id]
        seen = best.get(article.id)
        terms = set(match.matched_terms) | (seen[3] if seen else set())
        if seen is None or (-match.score, tier(topic)) < (-seen[1], tier(seen[2])):
            best[article.id] = (article, match.score, topic, terms)
        else:
            best[article.id] = (*seen[:3], terms)
    return best, contradictions


def _items(
    best: dict[int, Best], contradictions: dict[int, str]
) -> tuple[list[DigestItem], dict[int | None, list[DigestItem]], dict[int, Article]]:
    """Retractions (ranked), the other items grouped by protocol (None: interests), and the
    articles behind those items."""
    retractions: list[DigestItem] = []
    groups: dict[int | None, list[DigestItem]] = {}
    articles_by_id: dict[int, Article] = {}
    for article_id, (article, score, topic, terms) in best.items():
        item = _item(article, score, terms)
        item.contradiction_note = contradictions.get(article_id)
        if article.is_retracted:
            retractions.append(item)
            continue
        articles_by_id[article_id] = article
        key = topic.protocol_id if topic.kind == TopicKind.PROTOCOL else None
        groups.setdefault(key, []).append(item)
    retractions.sort(key=_rank_key)
    return retractions, groups, articles_by_id


def _sections(
    groups: dict[int | None, list[DigestItem]],
    protocols: dict[int | None, ClinicalProtocol],
    owned: set[int | None],
) -> list[DigestSection]:
    """One section per protocol (and one for interests): own protocols first, then
    interests, then the practice's other protocols, each ranked and cut to its maximum."""
    sections: list[DigestSection] = []
    for key, items in groups.items():
        items.sort(key=_rank_key)
        protocol = protocols.get(key) if key is not None else None
        title = protocol.title if protocol else INTERESTS
        sections.append(
            DigestSection(
                title=title,
                protocol_id=key,
                owned=key in owned,
                items=items[:MAX_PER_SECTION],
                more=max(0, len(items) - MAX_PER_SECTION),
            )
        )
    sections.sort(
        key=lambda s: (0 if s.owned else 1 if s.protocol_id is None else 2, s.title.casefold())
    )
    return sections


def _reviews_due(
    session: Session,
    *,
    physician_id: int,
    protocols: dict[int | None, ClinicalProtocol],
    today: date,
    now: datetime,
    relevance_threshold: float,
) -> list[ReviewPrompt]:
    """Protocol reviews due (opened as they come due) for the protocols this physician owns,
    or that have no owner: reviews ask for action, so they go to the protocol's owner."""
    due = open_reviews(
        session=session, today=today, relevance_threshold=relevance_threshold, now=now
    )
    mine = [
        r
        for r in due
        if (owner := protocols.get(r.protocol_id)) and owner.owner_id in (None, physician_id)
    ]
    return review_prompts(session=session, reviews=mine, today=today)


def _overview(
    sections: list[DigestSection],
    articles_by_id: dict[int, Article],
    composer: SummaryComposer | None,
) -> tuple[str | None, int]:
    """The model's overview of the week's strongest articles, checked against their facts
    (references, numbers, dates), and how many of its sentences were removed; None without
    a composer, or when nothing of it held."""
    if composer is None or not articles_by_id:
        return None, 0
    shown = sorted((i for s in sections for i in s.items), key=_rank_key)[:OVERVIEW_ARTICLES]
    summary = summarise(articles=[articles_by_id[i.article_id] for i in shown], composer=composer)
    return (summary.body if summary.mode == "model" else None), summary.dropped


def _render(
    *,
    physician: Practitioner,
    monday: date,
    sunday: date,
    sections: list[DigestSection],
    retractions: list[DigestItem],
    reviews: Sequence[ReviewPrompt],
    overview: str | None,
    overview_dropped: int,
) -> Digest:
    refs: dict[str, None] = {}
    for ref in find_refs(overview or ""):
        refs.setdefault(ref, None)
    for item in [*retractions, *(i for s in sections for i in s.items)]:
        refs.setdefault(item.ref, None)
    for review in reviews:
        for ref in review.refs:
            refs.setdefault(ref, None)
    count = sum(len(s.items) + s.more for s in sections)
    empty = count == 0 and not retractions
    week_label = _week_label(monday, sunday)
    name = f"{physician.title} {physician.name}" if physician.title else physician.name
    # HTML and text show the overview as plain paragraphs: Markdown heading marks go.
    paragraphs = [
        _HEADING_MARK.sub("", p).strip() for p in (overview or "").split("\n\n") if p.strip()
    ]
    if empty:
        headline = (
            "No new articles matched your topics this week: nothing to read, nothing retracted."
        )
    else:
        headline = f"{count} new article{'s' if count != 1 else ''} matched your topics this week"
        if retractions:
            n = len(retractions)
            headline += f", and {n} retraction{'s' if n != 1 else ''} to note"
        headline += "."
    ctx = {
        "headline": headline,
        "physician_name": name,
        "week_label": week_label,
        "week_start": monday,
        "week_end": sunday,
        "sections": sections,
        "retractions": retractions,
        "reviews": reviews,
        "overview": overview,
        "overview_paragraphs": paragraphs,
        "article_count": count,
        "empty": empty,
    }
    return Digest(
        physician=physician,
        week_start=monday,
        week_end=sunday,
        sections=sections,
        retractions=retractions,
        reviews=list(reviews),
        markdown=render(template("digest", "digest.md.j2"), **ctx).strip() + "\n",
        html=render(template("digest", "digest.html.j2"), **ctx),
        text=render(template("digest", "digest.txt.j2"), **ctx).strip() + "\n",
        refs=list(refs),
        empty=empty,
        subject=f"Research digest, {week_label}",
        overview=overview,
        overview_dropped=overview_dropped,
        overview_paragraphs=paragraphs,
    )


def keep_digest(*, session: Session, digest: Digest, physician_id: int, actor: str) -> None:
    """Keep the digest (and so remember it): one row per physician and ISO week, so the
    CLI's and the service's digests of the same week replace each other."""
    year, week_no, _ = digest.week_start.isocalendar()
    save_document(
        session=session,
        kind="digest",
        key=f"{year}-W{week_no:02d}:{physician_id}",
        title=f"Research digest, week of {digest.week_start}",
        markdown=digest.markdown,
        practitioner_id=physician_id,
        for_date=digest.week_start,
        actor=actor,
    )
