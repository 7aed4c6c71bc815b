"""Benchmark: ingest ~5,000 articles from saved PubMed XML and feed files, 10 protocol topics.

    python benchmarks/literature_ingest.py                     # 5,000 articles, SQLite
    python benchmarks/literature_ingest.py --articles 500 --keep-dir
    python benchmarks/literature_ingest.py --database-url postgresql://postgres@127.0.0.1/bench

A seeded corpus is written to a temporary directory first (not timed):

- `pubmed/search-NN.xml`: EFetch XML, 200 articles a file, as a saved PubMed search returns
  them (structured abstracts, authors, MeSH, keywords, reference lists, publication types
  mixing RCTs, meta-analyses, cohorts, reviews and case reports, retracted papers with a
  CommentsCorrections RetractionIn and their retraction notices). About 2% of the articles
  are in two saved searches; the earlier copy is still in process (no MeSH yet).
- `feeds/`: journal RSS 2.0 feeds (copies known by DOI), PubMed search RSS feeds (by PMID)
  and journal Atom "online first" feeds (by title only), which repeat ~10% of the articles,
  plus feed-only papers (~3%).

Then a fresh database is migrated (a SQLite file in the temporary directory unless
`--database-url` names an empty one), the ten demo clinical protocols are added and their
topics synced. Timed: `offline.read_directory` (read + parse), `ingest.ingest` (store,
deduplicate, grade, score against every topic, flush) and the commit; then the same again
in a new session, which must find nothing new or changed. The corpus knows what it holds,
so the stored rows are checked against it: distinct articles, PMIDs, retractions, grades
and which topic matches are about the paper's own subject.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

# The corpus lives beside this script (run as `python benchmarks/literature_ingest.py`).
from literature_corpus import NOW, Corpus, Paper, make_papers
from literature_files import write_corpus
from literature_vocab import EXPECTED_GRADE
from practice import machine  # beside this module
from sqlalchemy import Engine, event
from sqlmodel import Session, func, select

import tools.literature.ingest as ingest_module
from db.engine import make_engine, migrate
from db.models import Article, ArticleMatch, ClinicalProtocol, WatchTopic
from demo.vocab_clinical import CONDITIONS
from tools.literature.ingest import IngestReport, ingest
from tools.literature.sources.harvest import FetchResult
from tools.literature.sources.offline import read_directory
from tools.literature.text import title_key
from tools.literature.topics import sync_protocol_topics

TARGET_SECONDS = 15.0


# ---------------------------------------------------------------------------- database


def add_protocols(engine: Engine) -> int:
    """The demo practice's ten protocols (IBS ... metabolic syndrome), then their topics."""
    assert len(CONDITIONS) == 10, "the demo has ten protocol conditions"
    with Session(engine) as session:
        for c in CONDITIONS:
            session.add(
                ClinicalProtocol(
                    title=c.protocol,
                    condition=c.name,
                    keywords=list(c.keywords),
                    mesh_terms=list(c.mesh),
                    summary=c.summary,
                    last_reviewed_on=date(2025, 3, 1),
                )
            )
        session.flush()
        topics = sync_protocol_topics(session=session)
        session.commit()
        return len(topics)


@dataclass
class Timings:
    parse: float = 0.0
    ingest: float = 0.0
    commit: float = 0.0
    store: float = 0.0  # store_records: lookups, dedup, merge, grade, INSERT/UPDATE flush
    score: float = 0.0  # score_articles: topic lookup, scoring, match INSERT flush
    sql: float = 0.0  # inside cursor.execute / executemany, all phases
    statements: int = 0

    @property
    def total(self) -> float:
        return self.parse + self.ingest + self.commit


class SqlClock:
    def __init__(self, engine: Engine) -> None:
        self.seconds, self.count = 0.0, 0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, *_args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, *_args: Any) -> None:
        self.seconds += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.count += 1


@contextmanager
def timed(module: types.ModuleType, name: str, add: Callable[[float], None]) -> Iterator[None]:
    """Time every call of `module.name` (a function ingest looks up at call time)."""
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            add(time.perf_counter() - started)

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


def run_once(
    engine: Engine, directory: Path, sql: SqlClock, profiler: cProfile.Profile | None = None
) -> tuple[Timings, IngestReport, FetchResult]:
    t = Timings()

    def add_store(s: float) -> None:
        t.store += s

    def add_score(s: float) -> None:
        t.score += s

    sql_before, count_before = sql.seconds, sql.count
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    fetched = read_directory(directory)
    parsed = time.perf_counter()
    with (
        timed(ingest_module, "store_records", add_store),
        timed(ingest_module, "score_articles", add_score),
        Session(engine) as session,
    ):
        report = ingest(session=session, fetched=fetched, now=NOW)
        ingested = time.perf_counter()
        session.commit()
    committed = time.perf_counter()
    if profiler:
        profiler.disable()
    t.parse, t.ingest, t.commit = parsed - started, ingested - parsed, committed - ingested
    t.sql, t.statements = sql.seconds - sql_before, sql.count - count_before
    return t, report, fetched


# ------------------------------------------------------------------------------ checks


@dataclass
class Checks:
    stored: int = 0
    pmids_missing: int = 0
    dois_missing: int = 0
    retracted: int = 0
    grade_ok: int = 0
    grade_wrong: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unmatched_rows: int = 0
    matches: int = 0
    matched_articles: int = 0
    on_subject: int = 0  # matches to the topic of the paper's own condition
    off_subject: int = 0
    on_topic_papers: int = 0
    on_topic_found: int = 0  # on-topic papers matched to their own topic
    off_by_topic: Counter[str] = field(default_factory=Counter)
    off_only_mesh: int = 0  # ... matched neither on the condition nor on its first MeSH heading
    off_terms: Counter[str] = field(default_factory=Counter)  # matched terms of those


def check(engine: Engine, papers: list[Paper]) -> Checks:
    result = Checks()
    by_pmid = {p.pmid: p for p in papers if p.role in ("pubmed", "pubmed-rss")}
    by_doi = {p.doi.lower(): p for p in papers if p.doi and p.role != "atom"}
    by_key = {title_key(p.title): p for p in papers}
    with Session(engine) as session:
        articles = session.exec(select(Article)).all()
        topics = {t.id: t for t in session.exec(select(WatchTopic)).all()}
        matches = session.exec(select(ArticleMatch)).all()
    result.stored = len(articles)
    stored_pmids = {a.pmid for a in articles if a.pmid}
    stored_dois = {a.doi for a in articles if a.doi}
    result.pmids_missing = len(set(by_pmid) - stored_pmids)
    result.dois_missing = len({d for d in by_doi} - stored_dois)
    result.retracted = sum(a.is_retracted for a in articles)
    paper_of: dict[int, Paper] = {}
    for a in articles:
        paper = (
            (by_pmid.get(a.pmid) if a.pmid else None)
            or (by_doi.get(a.doi) if a.doi else None)
            or by_key.get(a.title_key)
        )
        if paper is None:
            result.unmatched_rows += 1
            continue
        assert a.id is not None
        paper_of[a.id] = paper
        expected = EXPECTED_GRADE[paper.design]
        if a.grade == expected:
            result.grade_ok += 1
        else:
            how = "PubMed record" if paper.role == "pubmed" else "feed item only"
            result.grade_wrong[(paper.design, str(a.grade), how)] += 1
    topic_of_protocol = {
        i: next(t.id for t in topics.values() if t.name == c.protocol)
        for i, c in enumerate(CONDITIONS)
    }
    result.matches = len(matches)
    result.matched_articles = len({m.article_id for m in matches})
    found: set[int] = set()
    for m in matches:
        paper = paper_of.get(m.article_id)
        if paper is None:
            continue
        own = paper.subject.topic
        if own is not None and topic_of_protocol[own] == m.topic_id and paper.design != "notice":
            result.on_subject += 1
            found.add(paper.idx)
        else:
            result.off_subject += 1
            topic = topics[m.topic_id]
            result.off_by_topic[topic.name.split(":")[0]] += 1
            result.off_terms.update(m.matched_terms)
            intervention_mesh = set(topic.mesh_terms[1:])
            if set(m.matched_terms) <= intervention_mesh | set(topic.terms[1:]):
                result.off_only_mesh += 1
    on_topic = [p for p in papers if p.subject.topic is not None and p.design != "notice"]
    result.on_topic_papers = len(on_topic)
    result.on_topic_found = sum(p.idx in found for p in on_topic)
    return result


# ------------------------------------------------------------------------------ output


def print_corpus(corpus: Corpus, fetched: FetchResult) -> None:
    papers = corpus.papers
    roles = Counter(p.role for p in papers)
    repeats = Counter(p.repeat for p in papers if p.repeat)
    print("| corpus | files | records |\n| --- | ---: | ---: |")
    for kind, files in corpus.files.items():
        print(f"| {kind} | {files} | {corpus.records[kind]:,} |")
    print(
        f"| **total** ({corpus.bytes / 1e6:.1f} MB) | {sum(corpus.files.values())} | "
        f"{sum(corpus.records.values()):,} |\n"
    )
    designs = Counter(p.design for p in papers)
    print(
        f"{len(papers):,} distinct papers: {roles['pubmed']:,} in the saved PubMed searches "
        f"({sum(p.twice for p in papers)} of them in two searches), "
        f"{len(papers) - roles['pubmed']} feed-only; feeds repeat {sum(repeats.values())} "
        f"(by DOI {repeats['doi']}, by PMID {repeats['pmid']}, by title only "
        f"{repeats['title']}). Designs: "
        + ", ".join(f"{k} {v}" for k, v in designs.most_common())
        + f"; {sum(p.retracted for p in papers)} retracted. "
        f"{sum(p.subject.topic is not None for p in papers):,} papers are about one of the "
        f"ten protocol conditions. Parsed {len(fetched.articles):,} records, "
        f"{len(fetched.problems)} problems.\n"
    )


def print_tables(
    first: tuple[Timings, IngestReport], second: tuple[Timings, IngestReport], distinct: int
) -> None:
    (t1, r1), (t2, r2) = first, second

    def row(name: str, a: float, b: float, note: str = "") -> None:
        print(f"| {name} | {a:.2f} | {b:.2f} | {note} |")

    print("| phase (s) | first ingest | second, identical | notes |")
    print("| --- | ---: | ---: | --- |")
    row("read + parse files", t1.parse, t2.parse, "offline.read_directory")
    row("ingest", t1.ingest, t2.ingest, "store + dedup + grade + score + flush")
    row("- of which store_records", t1.store, t2.store, "lookups, merge, grade, INSERT")
    row("- of which score_articles", t1.score, t2.score, "10 topics, match INSERT")
    row("commit", t1.commit, t2.commit, "")
    row("**total**", t1.total, t2.total, "")
    row("SQL (cursor.execute), all phases", t1.sql, t2.sql,
        f"{t1.statements} / {t2.statements} statements")  # fmt: skip
    print(
        f"| articles/s (distinct, total time) | {distinct / t1.total:,.0f} | "
        f"{distinct / t2.total:,.0f} | |\n"
    )
    print("| result | first | second |\n| --- | ---: | ---: |")
    for name, a, b in (
        ("new articles", r1.new, r2.new),
        ("updated", r1.updated, r2.updated),
        ("unchanged", r1.unchanged, r2.unchanged),
        ("duplicates merged in the same batch", r1.duplicates, r2.duplicates),
        ("topic matches written", r1.matches, r2.matches),
        ("retracted among new/changed", r1.retractions, r2.retractions),
        ("source problems", len(r1.problems), len(r2.problems)),
    ):
        print(f"| {name} | {a:,} | {b:,} |")
    print()


def print_checks(c: Checks, papers: list[Paper], records: int) -> None:
    expected_retracted = sum(p.retracted for p in papers)
    pmids = sum(p.role in ("pubmed", "pubmed-rss") for p in papers)
    print("| check | found | expected |\n| --- | ---: | ---: |")
    print(f"| articles stored | {c.stored:,} | {len(papers):,} |")
    print(f"| duplicates merged (records - stored) | {records - c.stored:,} | "
          f"{records - len(papers):,} |")  # fmt: skip
    dois = sum(p.doi is not None and p.role != "atom" for p in papers)  # atom: title only
    print(f"| PMIDs stored | {pmids - c.pmids_missing:,} | {pmids:,} |")
    print(f"| DOIs stored | {dois - c.dois_missing:,} | {dois:,} |")
    print(f"| retracted flagged | {c.retracted} | {expected_retracted} |")
    print(f"| grade as designed | {c.grade_ok:,} | {c.stored - c.unmatched_rows:,} |")
    print(
        f"| articles with a topic match | {c.matched_articles:,} "
        f"({c.matched_articles / max(c.stored, 1):.0%}) | |"
    )
    print(
        f"| on-topic papers matched to their own topic | {c.on_topic_found:,} | "
        f"{c.on_topic_papers:,} |"
    )
    print(
        f"| matches to another subject's topic (or a notice) | {c.off_subject:,} of "
        f"{c.matches:,} | {c.off_only_mesh:,} of them matched on neither the condition "
        "nor its first MeSH heading |\n"
    )
    if c.grade_wrong:
        print("Grades that differ from the design the paper was written as:\n")
        print("| written as | graded | from | articles |\n| --- | --- | --- | ---: |")
        for (design, graded, how), n in c.grade_wrong.most_common():
            print(f"| {design} | {graded} | {how} | {n} |")
        print()
    if c.off_by_topic:
        print(
            "Off-subject matches by topic: "
            + ", ".join(f"{k} {v}" for k, v in c.off_by_topic.most_common())
            + ". Terms they matched on: "
            + ", ".join(f"{k} {v}" for k, v in c.off_terms.most_common(8))
            + ".\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000, help="distinct articles")
    parser.add_argument("--topics", type=int, default=10, choices=[10],
                        help="protocol topics (fixed: the demo's ten protocols)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url",
        default=None,
        help="an empty database (default: SQLite file in the temp directory)",
    )
    parser.add_argument(
        "--keep-dir", action="store_true", help="keep the temp directory (corpus, SQLite file)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="cProfile the first run and print its top N functions (slows that run)",
    )
    args = parser.parse_args(argv)
    if args.articles < 200:
        parser.error("--articles must be at least 200")

    tmp = Path(tempfile.mkdtemp(prefix="steve-lit-bench-"))
    try:
        sys.stderr.write(f"  writing corpus to {tmp / 'corpus'} ...\n")
        started = time.perf_counter()
        papers = make_papers(args.articles, args.seed)
        corpus = write_corpus(papers, tmp / "corpus", args.seed)
        generated = time.perf_counter() - started
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        engine = make_engine(url)
        migrate(engine)
        with Session(engine) as session:
            if session.exec(select(func.count()).select_from(Article)).one():
                parser.error("the database already holds articles; give an empty one")
        n_topics = add_protocols(engine)
        sql = SqlClock(engine)
        profiler = cProfile.Profile() if args.profile else None
        sys.stderr.write("  first ingest ...\n")
        t1, r1, fetched = run_once(engine, tmp / "corpus", sql, profiler)
        sys.stderr.write("  second, identical ingest ...\n")
        t2, r2, _ = run_once(engine, tmp / "corpus", sql)
        checks = check(engine, papers)

        print(f"\n## Literature ingest benchmark ({engine.dialect.name})\n")
        print(f"Machine: {machine(engine)}\n")
        print(
            f"Corpus: {args.articles:,} distinct articles, seed {args.seed}, written in "
            f"{generated:.1f} s (not timed below); {n_topics} protocol topics.\n"
        )
        print_corpus(corpus, fetched)
        print_tables((t1, r1), (t2, r2), len(papers))
        print_checks(checks, papers, len(fetched.articles))
        verdict = "met" if t1.total < TARGET_SECONDS else "MISSED"
        print(
            f"Target: {args.articles:,} articles in under {TARGET_SECONDS:.0f} s: {verdict} "
            f"({t1.total:.2f} s{', profiled' if profiler else ''}). Second run: "
            f"{r2.new} new, {r2.updated} updated "
            f"({'idempotent' if r2.new == r2.updated == 0 else 'NOT idempotent'})."
        )
        if profiler:
            for key in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.profile)
                print(f"\n### cProfile, first run, by {key}\n\n```\n{out.getvalue().strip()}\n```")
        engine.dispose()
    finally:
        if args.keep_dir:
            sys.stderr.write(f"  kept {tmp}\n")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
