"""MemoryStore on Chroma, embedded (PersistentClient) and against a real `chroma run` server.

The embedder is the real all-MiniLM-L6-v2; query vectors are memoised so a thousand
patient-scoped searches measure Chroma and the filter, not the model.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from memory.documents import MemoryDocument
from memory.embeddings import LocalMiniLM
from memory.inputs import COLLECTIONS
from memory.store import MemoryStore
from tests.support.service import free_port
from tools.errors import ConfigError, InvalidInput

pytest.importorskip("sentence_transformers")
pytest.importorskip("chromadb")


class MemoisedMiniLM:
    """The real model, remembering vectors it has computed (same name: same space)."""

    def __init__(self) -> None:
        self.inner = LocalMiniLM()
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.cache: dict[str, list[float]] = {}

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return [self.cache[t] for t in texts]


class FakeEmbedder:
    name = "fake-model"
    dim = 384

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0] + [0.0] * 383 for _ in texts]


@pytest.fixture(scope="module")
def embedder() -> MemoisedMiniLM:
    return MemoisedMiniLM()


@pytest.fixture(params=["persistent", "http"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(kind, location): a fresh directory, or the shared server with its collections dropped."""
    if request.param == "persistent":
        yield "persistent", str(tmp_path / "chroma")
        return
    url = request.getfixturevalue("chroma_url")
    import chromadb
    from chromadb.config import Settings

    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(
        host=host, port=int(port), settings=Settings(anonymized_telemetry=False)
    )
    for col in client.list_collections():
        client.delete_collection(col.name)
    yield "http", url


def open_store(backend: tuple[str, str], embedder: Any) -> MemoryStore:
    kind, location = backend
    if kind == "persistent":
        return MemoryStore.persistent(location, embedder)
    return MemoryStore.http(location, embedder)


@pytest.fixture
def store(backend: tuple[str, str], embedder: MemoisedMiniLM) -> MemoryStore:
    return open_store(backend, embedder)


def note(n: int, text: str, patient_id: int, **extra: str | int) -> MemoryDocument:
    return MemoryDocument(f"note:{n}", "notes", text, {"patient_id": patient_id, **extra})


def vectors_where(store: MemoryStore, collection: str, where: dict[str, Any]) -> list[str]:
    return list(store.collection(collection).get(where=where, include=[])["ids"])


LONG = " ".join(
    f"Paragraph {i}: the patient reports intermittent migraine with aura, worse after poor "
    "sleep and skipped meals; acupuncture and magnesium have helped somewhat."
    for i in range(30)
)


def test_upsert_is_idempotent_and_searchable(store: MemoryStore) -> None:
    docs = [
        note(1, "Severe abdominal pain after meals, bloating in the evening.", 1),
        note(2, "Fractured left wrist after a fall while skiing; cast applied.", 1),
        MemoryDocument(
            "message:3", "messages", "Please call about her sleep diary.", {"patient_id": 1}
        ),
    ]
    assert store.upsert(docs) == 3
    assert store.upsert(docs) == 3
    assert store.count("notes") == 3  # messages live in the notes collection
    hits = store.search_patient(1, "tummy ache", k=2)
    assert hits[0].id == "note:1"
    assert hits[0].score is not None and hits[0].score > hits[1].score  # type: ignore[operator]


def test_changing_a_text_replaces_all_its_chunks(store: MemoryStore) -> None:
    assert store.upsert([note(7, LONG, 3)]) > 2
    long_chunks = vectors_where(store, "notes", {"source_id": "note:7"})
    assert len(long_chunks) > 2
    assert store.upsert([note(7, "Migraine resolved; no aura since March.", 3)]) == 1
    assert vectors_where(store, "notes", {"source_id": "note:7"}) == ["note:7"]
    assert store.count("notes") == 1
    [hit] = store.search_patient(3, "migraine", k=5)
    assert hit.text == "Migraine resolved; no aura since March."


def test_delete_removes_every_chunk(store: MemoryStore) -> None:
    store.upsert([note(7, LONG, 3), note(8, "Knee pain on stairs.", 3)])
    assert store.delete(["note:7"]) > 2
    assert vectors_where(store, "notes", {"source_id": "note:7"}) == []
    assert store.count("notes") == 1
    assert store.delete([]) == 0


TOPICS = [
    "migraine with aura after poor sleep",
    "abdominal pain and bloating after meals",
    "lower back pain after gardening",
    "anxiety and racing thoughts at night",
    "eczema flare on both hands",
    "iron deficiency and fatigue",
    "knee pain climbing stairs",
    "hot flushes and night sweats",
]
QUERIES = [
    "headache",
    "tummy ache",
    "back problems",
    "stress",
    "skin rash",
    "tired all the time",
    "joint pain",
    "menopause symptoms",
    "sleep",
    "diet",
]


def test_patient_scoped_search_never_returns_another_patient(store: MemoryStore) -> None:
    rng = random.Random(7)
    docs = [
        note(p * 10 + i, f"Patient {p}: {topic}.", p)
        for p in range(1, 21)
        for i, topic in enumerate(rng.sample(TOPICS, 3))
    ]
    store.upsert(docs)
    started = time.perf_counter()
    seen = 0
    for _ in range(1000):
        patient = rng.randint(1, 22)  # 21 and 22 have no notes
        hits = store.search_patient(patient, rng.choice(QUERIES), k=rng.randint(1, 5))
        assert all(h.metadata["patient_id"] == patient for h in hits)
        assert all(h.id.startswith(f"note:{patient}") for h in hits)
        seen += len(hits)
    assert seen > 1000
    assert time.perf_counter() - started < 60


def test_erase_patient_removes_every_vector(store: MemoryStore) -> None:
    store.upsert(
        [
            note(1, LONG, 5),
            note(2, "Knee pain on stairs.", 5),
            note(3, "Knee pain on stairs.", 6),
            MemoryDocument("document:summary:p5", "documents", "Summary for 5.", {"patient_id": 5}),
            MemoryDocument(
                "preference:1",
                "preferences",
                "No fish oil.",
                {"patient_id": 5, "practitioner_id": 2},
            ),
            MemoryDocument("pmid:1", "literature", "Acupuncture for migraine: a trial.", {}),
        ]
    )
    before = {c: len(vectors_where(store, c, {"patient_id": 5})) for c in COLLECTIONS}
    assert before["notes"] > 2 and before["documents"] == before["preferences"] == 1
    assert store.erase_patient(5) == sum(before.values())
    assert all(vectors_where(store, c, {"patient_id": 5}) == [] for c in COLLECTIONS)
    assert vectors_where(store, "notes", {"patient_id": 6}) == ["note:3"]
    assert store.count("literature") == 1
    assert store.erase_patient(5) == 0


def test_literature_and_preferences(store: MemoryStore) -> None:
    store.upsert(
        [
            MemoryDocument("pmid:1", "literature", "Acupuncture for chronic migraine.", {}),
            MemoryDocument("pmid:2", "literature", "Vitamin D and bone density.", {}),
            MemoryDocument("preference:1", "preferences", "Briefing at 7.", {"practitioner_id": 2}),
            MemoryDocument("preference:2", "preferences", "No jargon.", {"practitioner_id": 3}),
        ]
    )
    assert store.search_literature("headache treatment", k=1)[0].id == "pmid:1"
    assert [h.text for h in store.preferences_for(2)] == ["Briefing at 7."]


def test_a_collection_built_with_another_model_is_refused(
    backend: tuple[str, str], store: MemoryStore
) -> None:
    store.upsert([note(1, "Knee pain on stairs.", 1)])
    other = open_store(backend, FakeEmbedder())
    with pytest.raises(ConfigError, match=r"collection notes was built with .*reindex"):
        other.search_patient(1, "knee")
    with pytest.raises(ConfigError, match="collection notes was built with"):
        other.upsert([note(2, "Knee pain.", 1)])


def test_empty_text_and_bad_arguments_are_refused(store: MemoryStore) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        store.upsert([note(1, "fine", 1), note(2, "  \n ", 1)])
    assert store.count("notes") == 0  # nothing written
    with pytest.raises(InvalidInput, match="empty"):
        store.search_patient(1, "  ")
    with pytest.raises(InvalidInput, match="patient_id"):
        store.search_patient("1", "knee")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="collection"):
        store.search_patient(1, "knee", collection="everything")


def test_unreachable_server_is_one_clear_line(embedder: MemoisedMiniLM) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigError, match=f"Chroma server at {url} is not reachable") as err:
        MemoryStore.http(url, embedder)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="URL"):
        MemoryStore.http("127.0.0.1:8000", embedder)


def test_corrupt_directory_names_it_and_says_reindex(
    tmp_path: Path, embedder: MemoisedMiniLM
) -> None:
    path = tmp_path / "broken"
    path.mkdir()
    (path / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="reindex") as err:
        MemoryStore.persistent(path, embedder)
    assert str(path) in str(err.value)
    assert "move it aside" in str(err.value)
