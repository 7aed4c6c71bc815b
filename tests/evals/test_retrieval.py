"""The retrieval evaluation: metrics, and the labelled set against a freshly built demo."""

from __future__ import annotations

import pytest

from evals.retrieval.demo import DemoCorpus, build_corpus
from evals.retrieval.metrics import dedupe_sources, recall_at, reciprocal_rank
from evals.retrieval.rankers import BM25Ranker
from evals.retrieval.runner import DemoMismatch, check_demo, load_queries, report, run


def test_recall_at_k() -> None:
    assert recall_at(5, ["a", "b", "c"], {"b"}) == 1.0
    assert recall_at(2, ["a", "b", "c"], {"c"}) == 0.0
    assert recall_at(5, ["a", "b"], {"a", "x"}) == 0.5
    with pytest.raises(ValueError):
        recall_at(5, ["a"], set())


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"a"}) == 1.0
    assert reciprocal_rank(["a", "b", "c"], {"c", "b"}) == 0.5
    assert reciprocal_rank(["a"], {"z"}) == 0.0


def test_chunks_count_once_for_their_source() -> None:
    assert dedupe_sources(["note:5#c0", "note:2", "note:5#c1"]) == ["note:5", "note:2"]


@pytest.fixture(scope="module")
def corpus() -> DemoCorpus:
    return build_corpus()


def test_labelled_set_parses() -> None:
    meta, queries = load_queries()
    assert meta["seed"] == 7 and meta["patients"] == 300
    assert len(queries) >= 60
    assert len({q.id for q in queries}) == len(queries)
    kinds = {q.type for q in queries}
    assert kinds == {"patient", "literature"}
    assert sum(q.type == "patient" for q in queries) >= 40
    assert all(q.expected and set(q.hashes) == set(q.expected) for q in queries)


def test_labels_match_the_generated_demo(corpus: DemoCorpus) -> None:
    meta, queries = load_queries()
    check_demo(meta, queries, corpus)  # every expected id exists, with the labelled text
    for q in queries:
        for doc_id in q.expected:
            doc = corpus.documents[doc_id]
            if q.type == "patient":
                assert doc.metadata["patient_id"] == q.patient_id, (q.id, doc_id)
            else:
                assert doc.metadata["kind"] == "article", (q.id, doc_id)


def test_a_changed_demo_is_reported(corpus: DemoCorpus) -> None:
    meta, queries = load_queries()
    first = queries[0]
    tampered = {**first.hashes, first.expected[0]: "000000000000"}
    bad = [type(first)(**{**first.__dict__, "hashes": tampered})]
    with pytest.raises(DemoMismatch, match="relabel"):
        check_demo(meta, bad, corpus)
    with pytest.raises(DemoMismatch, match="written for"):
        check_demo({**meta, "seed": 8}, queries, corpus)


def test_bm25_runs_and_reports(corpus: DemoCorpus) -> None:
    _, queries = load_queries()
    results = run(BM25Ranker(), corpus, queries)
    easy = [r for r in results if not r.query.hard]
    # Queries sharing words with their answer are BM25's home ground.
    assert sum(r.recall for r in easy) / len(easy) > 0.9
    table = report(results, "bm25")
    assert f"| overall | {len(queries)} |" in table
    assert "recall@5" in table
