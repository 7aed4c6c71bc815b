"""The seeded corpus for benchmarks/literature_ingest.py: papers that know what they are
(subject, design, identifiers, retraction). literature_files writes them as saved PubMed
EFetch XML, journal RSS 2.0, PubMed RSS and journal Atom files."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from literature_abstracts import (  # beside this module
    abstract_for,
    design_types,
    fit_length,
    title_for,
)
from literature_vocab import (  # beside this module
    ATOM_JOURNALS,
    DESIGNS,
    FORE,
    GENERAL,
    INTERVENTIONS,
    JOURNALS,
    LAST,
    OFF_TOPIC,
    ON_TOPIC,
    RSS_JOURNALS,
    Intervention,
    Subject,
)

from tools.literature.text import title_key

NOW = datetime(2025, 11, 24, 6, 0, tzinfo=UTC)
PER_FILE = 200

# ------------------------------------------------------------------------------- corpus


@dataclass
class Paper:
    idx: int
    pmid: str
    doi: str | None
    journal: tuple[str, str, str]
    subject: Subject
    design: str
    title: str
    sections: list[tuple[str | None, str]]
    pub_date: date
    authors: list[tuple[str, str]]
    mesh: list[str]
    keywords: list[str]
    pub_types: list[str]
    references: int
    retracted: bool = False
    notice_pmid: str | None = None  # the retraction notice, for a retracted paper
    retracts: Paper | None = None  # for a notice: the paper it retracts
    role: str = "pubmed"  # pubmed | feed-only (rss / pubmed-rss / atom-doi / atom)
    repeat: str | None = None  # doi | pmid | title: copied into a feed
    twice: bool = False  # in two saved searches

    @property
    def abstract(self) -> str:
        return " ".join(text for _, text in self.sections)


@dataclass
class Corpus:
    papers: list[Paper]
    files: dict[str, int] = field(default_factory=dict)  # kind -> files
    records: dict[str, int] = field(default_factory=dict)  # kind -> records written
    bytes: int = 0


def journal_for(code: str) -> tuple[str, str, str]:
    return next(j for j in JOURNALS if j[2] == code)


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def make_papers(n: int, seed: int) -> list[Paper]:
    """`n` distinct papers: titles, identifiers and roles assigned deterministically."""
    rng = random.Random(seed)
    n_notices = max(1, n // 200)
    papers: list[Paper] = []
    keys: set[str] = set()
    pmid = 37_800_000
    on_share = 0.17
    while len(papers) < n - n_notices:
        subject = rng.choice(ON_TOPIC) if rng.random() < on_share else rng.choice(OFF_TOPIC)
        design = _weighted(rng, DESIGNS)
        own = subject.topic is not None or rng.random() < 0.5
        x = INTERVENTIONS[rng.choice(subject.interventions if own else GENERAL)]
        c = rng.choice(subject.phrases)
        p = rng.choice(subject.populations)
        title = title_for(rng, design, x, c, p, subject) + "."
        key = title_key(title)
        if key in keys:  # distinct papers get distinct titles (see the README on why)
            continue
        keys.add(key)
        pmid += rng.randint(1, 40)
        papers.append(_study(rng, len(papers), pmid, subject, design, x, c, p, title))
    _retract(rng, papers, n_notices, pmid)
    _assign_roles(rng, papers, n)
    return papers


def _study(
    rng: random.Random,
    idx: int,
    pmid: int,
    subject: Subject,
    design: str,
    x: Intervention,
    c: str,
    p: str,
    title: str,
) -> Paper:
    """One paper with its abstract, identifiers, authors and indexing."""
    journal = rng.choice(JOURNALS)
    year = rng.choice((2023, 2024, 2024, 2025, 2025))
    size = {"case": 1, "meta": rng.randint(800, 60000)}.get(design, rng.randint(30, 480))
    sections = abstract_for(rng, design, x, c, p, subject, size)
    fit_length(rng, sections)
    mesh = ["Humans", *subject.mesh, x.mesh]
    mesh += rng.sample(["Female", "Male", "Adult", "Middle Aged", "Aged", "Treatment "
                        "Outcome", "Quality of Life", "Integrative Medicine"], 3)  # fmt: skip
    keywords = [c, x.name.split(" (")[0], rng.choice(("integrative medicine",
                "complementary therapies", "evidence-based practice"))]  # fmt: skip
    authors = [(rng.choice(LAST), rng.choice(FORE)) for _ in range(rng.randint(2, 9))]
    return Paper(
        idx=idx,
        pmid=str(pmid),
        doi=(
            f"10.5555/{journal[2]}.{year}.{idx:05d}".upper()
            if rng.random() < 0.5
            else f"10.5555/{journal[2]}.{year}.{idx:05d}"
        )
        if rng.random() < 0.95
        else None,
        journal=journal,
        subject=subject,
        design=design,
        title=title,
        sections=sections,
        pub_date=date(year, rng.randint(1, 12), rng.randint(1, 28)),
        authors=authors,
        mesh=list(dict.fromkeys(mesh)),
        keywords=keywords if rng.random() < 0.6 else [],
        pub_types=design_types(rng, design),
        references=rng.choice((0, 0, 8, 15, 25, 40)),
    )


def _retract(rng: random.Random, papers: list[Paper], n_notices: int, pmid: int) -> None:
    """Retract twice `n_notices` papers; the first `n_notices` get their notice as a paper."""
    retracted = rng.sample(papers, n_notices * 2)
    for paper in retracted:
        paper.retracted = True
        paper.pub_types = [*paper.pub_types, "Retracted Publication"]
    for original in retracted[:n_notices]:
        pmid += rng.randint(1, 40)
        notice = Paper(
            idx=len(papers),
            pmid=str(pmid),
            doi=None,
            journal=original.journal,
            subject=original.subject,
            design="notice",
            title=f"Retraction: {original.title}",
            sections=[],
            pub_date=original.pub_date + timedelta(days=rng.randint(120, 500)),
            authors=[],
            mesh=[],
            keywords=[],
            pub_types=["Retraction of Publication"],
            references=0,
            retracts=original,
        )
        original.notice_pmid = notice.pmid
        papers.append(notice)


def _assign_roles(rng: random.Random, papers: list[Paper], n: int) -> None:
    """Feed-only papers, papers a feed repeats, papers in two saved searches."""
    studies = [p for p in papers if p.design != "notice" and not p.retracted]
    pool = rng.sample(studies, len(studies))
    n_feed_only = round(n * 0.03)
    for i, paper in enumerate(pool[:n_feed_only]):
        paper.role = ("rss", "pubmed-rss", "atom-doi", "atom")[i % 4]
        paper.pub_types = []
        paper.mesh = []
        if paper.role in ("rss", "atom-doi") and paper.doi is None:
            paper.doi = f"10.5555/{paper.journal[2]}.{paper.pub_date.year}.{paper.idx:05d}"
        if paper.role == "rss":
            paper.journal = journal_for(rng.choice(RSS_JOURNALS))
        elif paper.role.startswith("atom"):
            paper.journal = journal_for(rng.choice(ATOM_JOURNALS))
    rest = [
        p for p in papers if p.role == "pubmed" and p.design != "notice" and p.notice_pmid is None
    ]
    rest = rng.sample(rest, len(rest))
    n_repeats = round(n * 0.10)
    by_doi = [p for p in rest if p.doi and p.journal[2] in RSS_JOURNALS]
    for paper in by_doi[: round(n_repeats * 0.4)]:
        paper.repeat = "doi"
    by_pmid = [p for p in rest if p.repeat is None]
    for paper in by_pmid[: round(n_repeats * 0.3)]:
        paper.repeat = "pmid"
    by_title = [p for p in rest if p.repeat is None and p.journal[2] in ATOM_JOURNALS]
    for paper in by_title[: n_repeats - round(n_repeats * 0.4) - round(n_repeats * 0.3)]:
        paper.repeat = "title"
    for paper in [p for p in rest if p.repeat is None][: round(n * 0.02)]:
        paper.twice = True
