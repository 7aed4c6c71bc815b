"""Memory follows registry writes: the change log drained into a real Chroma store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import ClinicalNote, MemoryChange
from memory.documents import DOCUMENTS, LITERATURE, NOTES, PREFERENCES
from memory.reindex import reindex
from memory.store import MemoryStore
from memory.sync import drain, pending
from tests.support import factories as f
from tests.support.literature_factories import article
from tests.support.memory import MemoisedMiniLM
from tools.generated_documents import save_document
from tools.notes import add_note, correct_note, delete_note
from tools.preferences import add_preference, remove_preference
from tools.registry import erase_patient

pytest.importorskip("chromadb")


@pytest.fixture(scope="module")
def embedder() -> MemoisedMiniLM:
    return MemoisedMiniLM()


@pytest.fixture
def store(tmp_path: Path, embedder: MemoisedMiniLM) -> MemoryStore:
    return MemoryStore.persistent(tmp_path / "chroma", embedder)


def ids(store: MemoryStore, collection: str, where: dict[str, Any] | None = None) -> set[str]:
    got = store.collection(collection).get(where=where, include=[])
    return set(got["ids"])


def practice(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        doc = f.practitioner(s)
        pat = f.patient(s, physician=doc)
        other = f.patient(s, physician=doc)
        s.commit()
        return doc.id, pat.id, other.id  # type: ignore[return-value]


def test_a_note_written_changed_and_deleted_is_changed_in_memory(
    engine: Engine, store: MemoryStore
) -> None:
    doc, pat, _ = practice(engine)
    with Session(engine) as s:
        note = add_note(
            session=s,
            patient_id=pat,
            practitioner_id=doc,
            body="Magnesium glycinate started for night cramps.",
        )
        s.commit()
        note_id = note.id
    report = drain(engine=engine, store=store)
    assert report.upserted == 1
    hits = store.search_patient(pat, "leg cramps at night", k=3)
    assert [h.source_id for h in hits] == [f"note:{note_id}"]
    assert "Magnesium" in hits[0].text

    with Session(engine) as s:
        correct_note(session=s, note_id=note_id, body="Acupuncture weekly for low back pain.")
        s.commit()
    drain(engine=engine, store=store)
    [hit] = store.search_patient(pat, "back pain", k=3)
    assert "Acupuncture" in hit.text and "Magnesium" not in hit.text
    assert ids(store, NOTES) == {f"note:{note_id}"}  # replaced, not duplicated

    with Session(engine) as s:
        delete_note(session=s, note_id=note_id)
        s.commit()
    drain(engine=engine, store=store)
    assert ids(store, NOTES) == set()
    with Session(engine) as s:
        assert pending(s) == 0


def test_draining_twice_changes_nothing(engine: Engine, store: MemoryStore) -> None:
    doc, pat, _ = practice(engine)
    with Session(engine) as s:
        for text in ("Vitamin D 2000 IU daily", "Ferritin low, iron started"):
            add_note(session=s, patient_id=pat, practitioner_id=doc, body=text)
        s.commit()
    first = drain(engine=engine, store=store)
    second = drain(engine=engine, store=store)
    assert (first.changes, second.changes) == (2, 0)
    assert len(ids(store, NOTES)) == 2


class Unreachable(Exception):
    pass


def test_an_unreachable_store_loses_nothing(engine: Engine, store: MemoryStore) -> None:
    doc, pat, _ = practice(engine)
    with Session(engine) as s:
        add_note(session=s, patient_id=pat, practitioner_id=doc, body="Omega-3 paused")
        s.commit()

    real_upsert = store.upsert

    def failing(*_a: Any, **_k: Any) -> int:
        raise Unreachable("chroma went away")

    store.upsert = failing  # type: ignore[method-assign]
    with pytest.raises(Unreachable):
        drain(engine=engine, store=store)
    with Session(engine) as s:
        assert pending(s) == 1  # the change is still owed to memory
    store.upsert = real_upsert  # type: ignore[method-assign]
    assert drain(engine=engine, store=store).upserted == 1
    assert len(ids(store, NOTES)) == 1


def test_erasure_removes_every_vector_of_that_patient_only(
    engine: Engine, store: MemoryStore
) -> None:
    doc, pat, other = practice(engine)
    with Session(engine) as s:
        add_note(session=s, patient_id=pat, practitioner_id=doc, body="Private detail one")
        add_note(session=s, patient_id=other, practitioner_id=doc, body="Other patient note")
        save_document(
            session=s,
            kind="briefing",
            key=f"2026-11-23:{pat}",
            title="Briefing",
            markdown="Briefing about the first patient [note:1]",
            patient_id=pat,
        )
        s.commit()
    drain(engine=engine, store=store)
    assert ids(store, DOCUMENTS, {"patient_id": pat})
    with Session(engine) as s:
        erase_patient(session=s, patient_id=pat)
        s.commit()
    report = drain(engine=engine, store=store)
    assert report.erased_patients == 1
    for name in (NOTES, DOCUMENTS):
        assert ids(store, name, {"patient_id": pat}) == set()
    assert len(ids(store, NOTES, {"patient_id": other})) == 1
    with Session(engine) as s:
        assert s.exec(select(ClinicalNote).where(ClinicalNote.patient_id == pat)).all() == []


def test_preferences_documents_and_articles_follow(engine: Engine, store: MemoryStore) -> None:
    doc, _, _ = practice(engine)
    with Session(engine) as s:
        keep = add_preference(session=s, practitioner_id=doc, text="Put labs first")
        drop = add_preference(session=s, practitioner_id=doc, text="No more than one page")
        paper = article(s, title="Magnesium and migraine prophylaxis", doi="10.1000/x.1")
        s.commit()
        keep_id, drop_id, ref = keep.id, drop.id, paper.ref
    drain(engine=engine, store=store)
    assert [h.text for h in store.preferences_for(doc)] == [
        "Put labs first",
        "No more than one page",
    ]
    assert store.search_literature("migraine magnesium", k=1)[0].source_id == ref
    with Session(engine) as s:
        remove_preference(session=s, preference_id=drop_id)
        s.commit()
    drain(engine=engine, store=store)
    assert [h.source_id for h in store.preferences_for(doc)] == [f"preference:{keep_id}"]
    assert ids(store, LITERATURE) == {ref}
    assert ids(store, PREFERENCES) == {f"preference:{keep_id}"}


def test_reindex_covers_the_log_written_before_it(engine: Engine, store: MemoryStore) -> None:
    doc, pat, _ = practice(engine)
    with Session(engine) as s:
        add_note(session=s, patient_id=pat, practitioner_id=doc, body="Before the rebuild")
        s.commit()
    with Session(engine) as s:
        report = reindex(session=s, store=store)
        s.commit()
        assert report.indexed["notes"] == 1
        assert s.exec(select(MemoryChange)).all() == []
    assert drain(engine=engine, store=store).changes == 0


def test_a_record_too_big_to_remember_is_skipped_not_retried(
    engine: Engine, store: MemoryStore
) -> None:
    doc, pat, _ = practice(engine)
    with Session(engine) as s:
        huge = add_note(
            session=s,
            patient_id=pat,
            practitioner_id=doc,
            body="Lorem ipsum dolor sit amet. " * 80_000,
        )  # 2.2 million characters
        small = add_note(session=s, patient_id=pat, practitioner_id=doc, body="Zinc paused")
        s.commit()
        huge_id, small_id = huge.id, small.id
    report = drain(engine=engine, store=store)
    assert report.skipped == [f"note:{huge_id}"]
    assert ids(store, NOTES) == {f"note:{small_id}"}
    with Session(engine) as s:
        assert pending(s) == 0  # skipped, not left to fail on every drain
