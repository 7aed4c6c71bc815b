"""Load the labelled set, check it still matches the demo, run a ranker, report metrics."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from evals.retrieval.demo import DemoCorpus, parameters
from evals.retrieval.metrics import dedupe_sources, recall_at, reciprocal_rank
from evals.retrieval.rankers import Ranker
from memory.chunking import chunk_document
from memory.lexical import Where

QUERIES = Path(__file__).with_name("queries.jsonl")
K = 5
# Chunks are deduplicated to their source, so fetch more than K to fill K sources.
FETCH = 20


class DemoMismatch(Exception):
    """The demo no longer generates the texts the labels were written against."""


@dataclass(frozen=True)
class Query:
    id: str
    type: str  # "patient" or "literature"
    query: str
    expected: tuple[str, ...]
    hashes: dict[str, str]
    patient_id: int | None = None
    hard: bool = False


@dataclass
class QueryResult:
    query: Query
    ranked: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return recall_at(K, self.ranked, self.query.expected)

    @property
    def rr(self) -> float:
        return reciprocal_rank(self.ranked, self.query.expected)


def load_queries(path: Path = QUERIES) -> tuple[dict[str, object], list[Query]]:
    """The file's metadata line (generation parameters) and its queries."""
    meta: dict[str, object] = {}
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "_meta" in row:
            meta = row["_meta"]
            continue
        queries.append(
            Query(
                id=row["id"],
                type=row["type"],
                query=row["query"],
                expected=tuple(row["expected"]),
                hashes=dict(row["hashes"]),
                patient_id=row.get("patient_id"),
                hard=bool(row.get("hard", False)),
            )
        )
    return meta, queries


def check_demo(meta: dict[str, object], queries: list[Query], corpus: DemoCorpus) -> None:
    """Fail clearly if the labels were written for another demo than the one generated."""
    expected_params = {k: meta.get(k) for k in parameters()}
    if expected_params != parameters():
        raise DemoMismatch(f"labels were written for {expected_params}, runner uses {parameters()}")
    for q in queries:
        for doc_id, digest in q.hashes.items():
            found = corpus.fingerprint(doc_id)
            if found != digest:
                state = "is missing" if found is None else "has different text"
                raise DemoMismatch(
                    f"query {q.id}: {doc_id} {state} in the generated demo; the demo generator "
                    "changed, so relabel evals/retrieval/queries.jsonl (see dump.py)"
                )


def run(ranker: Ranker, corpus: DemoCorpus, queries: list[Query]) -> list[QueryResult]:
    chunks = [c for doc in corpus.documents.values() for c in chunk_document(doc)]
    ranker.index(chunks)
    results = []
    for q in queries:
        where: Where = (
            {"patient_id": q.patient_id or 0} if q.type == "patient" else {"kind": "article"}
        )
        hits = ranker.search(q.query, FETCH, where)
        results.append(QueryResult(q, dedupe_sources([h.id for h in hits])[:K]))
    return results


def report(results: list[QueryResult], ranker_name: str) -> str:
    groups: dict[str, list[QueryResult]] = defaultdict(list)
    for r in results:
        groups[r.query.type].append(r)
        groups["hard" if r.query.hard else "easy"].append(r)
        groups["overall"].append(r)
    lines = [
        f"Retrieval, ranker {ranker_name}, {len(results)} queries",
        "",
        f"| set | queries | recall@{K} | MRR |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in ("overall", "patient", "literature", "easy", "hard"):
        group = groups.get(name, [])
        if not group:
            continue
        recall = sum(r.recall for r in group) / len(group)
        mrr = sum(r.rr for r in group) / len(group)
        lines.append(f"| {name} | {len(group)} | {recall:.3f} | {mrr:.3f} |")
    missed = [r.query.id for r in results if r.rr == 0.0]
    if missed:
        lines += ["", f"Nothing expected in the top {K}: {', '.join(missed)}"]
    return "\n".join(lines)
