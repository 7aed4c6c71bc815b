"""BM25 keyword index over memory documents."""

from __future__ import annotations

import math

import pytest

from memory.documents import MemoryDocument
from memory.lexical import LexicalIndex, terms
from tools.errors import InvalidInput


def doc(doc_id: str, text: str, **metadata: str | int) -> MemoryDocument:
    return MemoryDocument(doc_id, "notes", text, dict(metadata))


CORPUS = [
    doc("note:1", "Migraine twice this week; acupuncture helped the migraines.", patient_id=1),
    doc("note:2", "Lower back pain after gardening. Osteopathy booked.", patient_id=1),
    doc("note:3", "Magnesium glycinate started for sleep and migraine.", patient_id=2),
    doc("note:4", "Bloating lower on the adapted plan.", patient_id=2),
]


@pytest.fixture
def index() -> LexicalIndex:
    idx = LexicalIndex()
    idx.add(CORPUS)
    return idx


def test_ranks_the_document_about_the_query_first(index: LexicalIndex) -> None:
    hits = index.search("migraines and acupuncture")
    assert [h.id for h in hits][:2] == ["note:1", "note:3"]
    assert hits[0].score > hits[1].score > 0
    assert index.search("back pain")[0].id == "note:2"


def test_stop_words_and_unknown_words_find_nothing(index: LexicalIndex) -> None:
    assert "the" not in terms("The back")
    assert index.search("the and of") == []
    assert index.search("zebra") == []


def test_idf_favours_rare_terms(index: LexicalIndex) -> None:
    assert index.idf("migraine") < index.idf("bloating")
    # Lucene's idf: log(1 + (N - n + 0.5) / (n + 0.5)) with N = 4 documents, n = 2.
    assert index.idf("migraine") == pytest.approx(math.log(1 + 2.5 / 2.5))
    assert index.idf("unseen") > index.idf("bloating") > 0


def test_filters_by_dict_and_predicate(index: LexicalIndex) -> None:
    assert [h.id for h in index.search("migraine", where={"patient_id": 2})] == ["note:3"]
    assert index.search("migraine", where={"patient_id": 9}) == []
    hits = index.search("migraine", where=lambda m: m.get("patient_id") == 1)
    assert [h.id for h in hits] == ["note:1"]
    assert hits[0].metadata == {"patient_id": 1}


def test_upsert_replaces_and_is_idempotent(index: LexicalIndex) -> None:
    index.upsert([doc("note:4", "Now about fatigue.", patient_id=2)])
    index.upsert([doc("note:4", "Now about fatigue.", patient_id=2)])
    assert len(index) == 4
    assert index.search("bloating") == []
    assert index.search("fatigue")[0].id == "note:4"


def test_add_refuses_an_existing_id(index: LexicalIndex) -> None:
    with pytest.raises(InvalidInput, match="note:1 is already indexed"):
        index.add([doc("note:9", "new"), doc("note:1", "again")])
    assert "note:9" not in index  # nothing from the refused batch was added


def test_remove_forgets_documents(index: LexicalIndex) -> None:
    assert index.remove(["note:1", "note:404"]) == 1
    assert [h.id for h in index.search("migraine")] == ["note:3"]
    assert index.remove(["note:1"]) == 0
    index.remove(["note:2", "note:3", "note:4"])
    assert len(index) == 0 and index.search("migraine") == []


def test_ties_break_by_id_and_results_are_deterministic() -> None:
    idx = LexicalIndex()
    idx.upsert([doc(f"note:{n}", "same words here") for n in (3, 1, 2)])
    hits = idx.search("words", k=2)
    assert [h.id for h in hits] == ["note:1", "note:2"]
    assert idx.search("words") == idx.search("words")


def test_k_must_be_positive(index: LexicalIndex) -> None:
    with pytest.raises(InvalidInput, match="k must be"):
        index.search("migraine", k=0)


def test_many_documents_search_only_candidates() -> None:
    idx = LexicalIndex()
    idx.upsert(doc(f"note:{n}", f"routine visit {n} feeling well") for n in range(20_000))
    idx.upsert([doc("note:rare", "sudden numbness in the left arm")])
    assert idx.search("numbness", k=3)[0].id == "note:rare"
