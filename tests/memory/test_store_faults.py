"""MemoryStore under bad input and faults: a Chroma server that dies or hangs after opening,
failures in the middle of an upsert, bad documents and searches (the directory format
marker has its own file, test_memory_store_format.py).

A word-hashing embedder stands in for the model (fast, deterministic, and a text is still
found by its own words); what is under test is the store and Chroma, real ones throughout.
"""

from __future__ import annotations

import math
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from memory import store as store_module
from memory.documents import MemoryDocument
from memory.inputs import COLLECTIONS, MAX_CHUNKS
from memory.store import MemoryStore
from tests.support.chroma_server import STARTUP_TIMEOUT, chroma_executable
from tests.support.memory_fakes import SECRET, WordHash, note, one_line_without_data
from tests.support.service import free_port
from tools.errors import ConfigError, InvalidInput, Unavailable

chromadb = pytest.importorskip("chromadb")
httpx = pytest.importorskip("httpx")


class FailingEmbedder(WordHash):
    """Fails on any batch containing `trigger` (as a remote embedding endpoint might)."""

    def __init__(self, trigger: str) -> None:
        super().__init__()
        self.trigger = trigger

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if any(self.trigger in t for t in texts):
            raise RuntimeError("embedding endpoint went away")
        return super().embed(texts)


class FailingCollection:
    """A real collection whose upsert fails after `allowed` successful calls."""

    def __init__(self, inner: Any, allowed: int = 0) -> None:
        self.inner = inner
        self.allowed = allowed

    def upsert(self, **kwargs: Any) -> None:
        if self.allowed <= 0:
            raise OSError("disk full")
        self.allowed -= 1
        self.inner.upsert(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def paragraphs(n: int, tag: str = "old") -> str:
    """n paragraphs of about 1,000 characters: one chunk each."""
    return "\n\n".join(
        f"Paragraph {i} {tag}: " + " ".join(f"{tag}{i}w{j}" for j in range(120)) + "."
        for i in range(n)
    )


def chunk_ids(store: MemoryStore, source: str) -> list[str]:
    got = store.collection("notes").get(where={"source_id": source}, include=[])
    return sorted(got["ids"])


# ------------------------------------------------------------------ fixtures


@pytest.fixture(params=["persistent", "http"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore:
    """A fresh store: its own directory, or the shared server with its collections dropped."""
    if request.param == "persistent":
        return MemoryStore.persistent(tmp_path / "chroma", WordHash())
    url = request.getfixturevalue("chroma_url")
    shared = MemoryStore.http(url, WordHash())
    for col in shared.client.list_collections():
        shared.client.delete_collection(col.name)
    return shared


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    """A `chroma run` server for this test alone, so the test may kill or freeze it."""
    executable = chroma_executable()
    if not Path(executable).exists():
        pytest.skip(f"no chroma executable at {executable}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = tmp_path / "server-db"
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [executable, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(db)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                assert proc.poll() is None, f"chroma server exited; see {log.name}"
                try:
                    httpx.get(f"{url}/api/v2/heartbeat", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, f"chroma server not ready; see {log.name}"
                    time.sleep(0.05)
            yield Server(url, proc)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # in case the test froze it
                proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel does) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


# ------------------------------------------------- a server that dies or hangs


@pytest.mark.process
def test_a_killed_server_gives_one_clear_error_for_every_operation(own_server: Server) -> None:
    store = MemoryStore.http(own_server.url, WordHash(), timeout_seconds=5)
    store.upsert([note(1, f"{SECRET} confirmed on serology.", 4)])
    assert store.search_patient(4, "serology")[0].id == "note:1"
    own_server.proc.send_signal(signal.SIGKILL)
    own_server.proc.wait(timeout=10)
    operations = {
        "search_patient": lambda: store.search_patient(4, "Quixotic query text"),
        "upsert": lambda: store.upsert([note(2, f"{SECRET} again.", 4)]),
        "search_literature": lambda: store.search_literature("Quixotic query text"),
        "count": lambda: store.count("notes"),
        "delete": lambda: store.delete(["note:1"]),
        "erase_patient": lambda: store.erase_patient(4),
        "preferences_for": lambda: store.preferences_for(2),
        "reset": lambda: store.reset("documents"),
        "collection": lambda: store.collection("documents"),
    }
    for name, operation in operations.items():
        started = time.monotonic()
        with pytest.raises(Unavailable) as err:
            operation()
        assert time.monotonic() - started < 15, (
            name
        )  # bounded (a hang would never end); slack for a loaded CI machine
        message = one_line_without_data(err, "Quixotic")
        assert message.startswith(f"Chroma server at {own_server.url} stopped answering ("), name
        assert err.value.exit_code == 3


@pytest.mark.process
def test_a_frozen_server_times_out_in_bounded_time(own_server: Server) -> None:
    store = MemoryStore.http(own_server.url, WordHash(), timeout_seconds=1)
    store.upsert([note(1, "Knee pain on stairs.", 4)])
    own_server.proc.send_signal(signal.SIGSTOP)  # accepts TCP (the kernel does), never answers
    try:
        for operation in (
            lambda: store.search_patient(4, "knee"),
            lambda: store.upsert([note(2, f"{SECRET}.", 4)]),
        ):
            started = time.monotonic()
            with pytest.raises(Unavailable, match=r"stopped answering \(\w*Timeout after 1 s\)"):
                operation()
            assert time.monotonic() - started < 12  # 1 s timeouts, a few requests, a loaded machine
    finally:
        own_server.proc.send_signal(signal.SIGCONT)


def test_a_server_that_never_answers_is_refused_at_open_in_bounded_time(
    silent_listener: str,
) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"Chroma server at {silent_listener} is not reachable"):
        MemoryStore.http(silent_listener, WordHash(), timeout_seconds=0.5)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("timeout", [0, -1, math.inf, math.nan, True])
def test_a_nonsense_timeout_is_a_config_error(timeout: float) -> None:
    with pytest.raises(ConfigError, match="timeout"):
        MemoryStore.http("http://127.0.0.1:9", WordHash(), timeout_seconds=timeout)


def test_an_embedded_store_failing_after_open_is_one_line(tmp_path: Path) -> None:
    store = MemoryStore.persistent(tmp_path / "chroma", WordHash())
    store.upsert([note(1, "Knee pain on stairs.", 4)])
    store._collections["notes"] = FailingCollection(store.collection("notes"))
    with pytest.raises(Unavailable, match="failed to write to collection notes") as err:
        store.upsert([note(1, f"{SECRET}.", 4)])
    message = one_line_without_data(err)
    assert str(tmp_path / "chroma") in message and "OSError" in message
    # The failure dropped the cached collection: the next call gets the real one again.
    assert [h.id for h in store.search_patient(4, "knee")] == ["note:1"]


# ------------------------------------------- upsert: nothing stored is ever lost


def test_a_document_that_shrinks_keeps_exactly_its_new_chunks(store: MemoryStore) -> None:
    assert store.upsert([note(7, paragraphs(5)), note(8, "Knee pain on stairs.")]) == 6
    assert chunk_ids(store, "note:7") == [f"note:7#c{i}" for i in range(5)]
    assert store.upsert([note(7, paragraphs(2, "new"))]) == 2
    assert chunk_ids(store, "note:7") == ["note:7#c0", "note:7#c1"]
    assert store.count("notes") == 3  # note:8 untouched
    assert store.upsert([note(7, "Migraine resolved.")]) == 1
    assert chunk_ids(store, "note:7") == ["note:7"]
    assert store.count("notes") == 2


def test_a_failing_embedder_leaves_old_chunks_intact(store: MemoryStore) -> None:
    store.upsert([note(7, paragraphs(5))])
    store.embedder = FailingEmbedder(trigger="new")
    with pytest.raises(RuntimeError):
        store.upsert([note(7, paragraphs(2, "new"))])
    assert chunk_ids(store, "note:7") == [f"note:7#c{i}" for i in range(5)]
    [hit] = store.search_patient(1, "old3w5 old3w6 old3w7", k=1)
    assert hit.id == "note:7#c3"


def test_nothing_is_written_when_embedding_a_later_collection_fails(store: MemoryStore) -> None:
    store.embedder = FailingEmbedder(trigger="retracted")
    with pytest.raises(RuntimeError):
        store.upsert(
            [
                note(1, "Knee pain on stairs."),
                MemoryDocument("pmid:1", "literature", "A retracted trial.", {}),
            ]
        )
    assert store.count("notes") == store.count("literature") == 0


@pytest.mark.parametrize("allowed", [0, 1])
def test_a_write_failing_midway_leaves_old_chunks_searchable(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch, allowed: int
) -> None:
    store.upsert([note(7, paragraphs(5))])
    monkeypatch.setattr(store_module, "_WRITE_BATCH", 1)  # one chunk per Chroma call
    store._collections["notes"] = FailingCollection(store.collection("notes"), allowed)
    with pytest.raises(Unavailable, match="failed to write to collection notes"):
        store.upsert([note(7, paragraphs(2, "new"))])
    # Every old chunk id is still there (the first `allowed` now hold new text); none deleted.
    assert chunk_ids(store, "note:7") == [f"note:7#c{i}" for i in range(5)]
    [hit] = store.search_patient(1, "old4w5 old4w6 old4w7", k=1)
    assert hit.id == "note:7#c4"
    # Running it again completes it.
    assert store.upsert([note(7, paragraphs(2, "new"))]) == 2
    assert chunk_ids(store, "note:7") == ["note:7#c0", "note:7#c1"]


# ----------------------------------------------------------------- bad input


@pytest.fixture
def local(tmp_path: Path) -> MemoryStore:
    return MemoryStore.persistent(tmp_path / "chroma", WordHash())


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("  \n\t ", "empty"),
        ("\x00\x00\x01", "empty"),  # only control characters: nothing left
        (b"caf\xe9 au lait", "not valid UTF-8"),  # Latin-1, not UTF-8
        ("knee \ud800 pain", "not valid UTF-8"),  # lone surrogate
        (None, "must be a string"),
        (42, "must be a string"),
    ],
)
def test_bad_text_is_refused_and_nothing_is_written(
    local: MemoryStore, text: Any, why: str
) -> None:
    with pytest.raises(InvalidInput, match=why) as err:
        local.upsert([note(1, "Knee pain on stairs."), MemoryDocument("note:2", "notes", text)])
    assert str(err.value).startswith("note:2: ")
    assert local.count("notes") == 0


def test_nul_and_control_characters_are_dropped_and_bytes_decoded(local: MemoryStore) -> None:
    local.upsert(
        [
            MemoryDocument("note:1", "notes", "Knee\x00 pain\r\non stairs.", {"patient_id": 1}),
            MemoryDocument("note:2", "notes", "Caf\xe9 au lait".encode(), {"patient_id": 1}),  # type: ignore[arg-type]
        ]
    )
    texts = sorted(h.text for h in local.search_patient(1, "knee cafe", k=2))
    assert texts == ["Café au lait", "Knee pain\non stairs."]


def test_a_two_megabyte_text_is_chunked_and_stored(local: MemoryStore) -> None:
    sentence = "The patient reports migraine with aura, worse after poor sleep. "
    text = (sentence * (2_000_000 // len(sentence) + 1))[:2_000_000]
    written = local.upsert([note(1, text)])
    assert 1000 < written <= MAX_CHUNKS
    assert local.count("notes") == written


def test_texts_too_long_or_in_too_many_chunks_are_refused(local: MemoryStore) -> None:
    with pytest.raises(InvalidInput, match=r"^note:1: text is 2,000,001 characters"):
        local.upsert([note(1, "a " * 1_000_000 + "b")])
    # Paragraphs of 700 characters: one chunk each, 2,853 of them, under the character limit.
    paragraph = "word " * 139 + "end."
    text = "\n\n".join([paragraph] * (2_000_000 // (len(paragraph) + 2)))
    with pytest.raises(InvalidInput, match=r"^note:2: text would be 2,853 chunks; .* 2,000"):
        local.upsert([note(2, text)])
    assert local.count("notes") == 0


@pytest.mark.parametrize(
    "metadata",
    [
        {"patient_id": None},
        {"topics": ["a", "b"]},
        {"nested": {"a": 1}},
        {"score": math.nan},
        {"score": math.inf},
        {"chroma:document": "x"},
        {"": 1},
        {3: "x"},
        {"ref": "pmid:\ud800"},
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_written(
    local: MemoryStore, metadata: dict[Any, Any]
) -> None:
    with pytest.raises(InvalidInput, match=r"^note:2: metadata"):
        local.upsert([note(1, "fine"), MemoryDocument("note:2", "notes", "fine too", metadata)])
    assert local.count("notes") == 0


def test_bad_documents_and_ids_are_refused(local: MemoryStore) -> None:
    with pytest.raises(InvalidInput, match="non-empty id"):
        local.upsert([MemoryDocument("", "notes", "Knee pain.")])
    with pytest.raises(InvalidInput, match="unknown memory collection"):
        local.upsert([MemoryDocument("x:1", "everything", "Knee pain.")])
    with pytest.raises(InvalidInput, match="sequence of documents"):
        local.upsert(note(1, "Knee pain."))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="sequence of record ids"):
        local.delete("note:1")
    assert local.count("notes") == 0


@pytest.mark.parametrize("bad", [True, False, "4", 4.0, None])
def test_non_integer_people_ids_are_refused(local: MemoryStore, bad: Any) -> None:
    local.upsert([note(1, "Knee pain on stairs.", 1)])
    with pytest.raises(InvalidInput, match="patient_id must be an integer"):
        local.search_patient(bad, "knee")
    with pytest.raises(InvalidInput, match="patient_id must be an integer"):
        local.erase_patient(bad)
    with pytest.raises(InvalidInput, match="physician_id must be an integer"):
        local.preferences_for(bad)
    assert local.count("notes") == 1  # True == 1, but nothing was erased


@pytest.mark.parametrize(
    ("query", "k", "why"),
    [
        ("", 5, "empty"),
        ("  ", 5, "empty"),
        (None, 5, "empty"),
        ("knee \udc80", 5, "not valid UTF-8"),
        ("knee", 0, "k must be"),
        ("knee", True, "k must be"),
        ("knee", "3", "k must be"),
        ("knee", 10**6, "k must be"),
    ],
)
def test_bad_searches_are_refused_without_echoing_the_query(
    local: MemoryStore, query: Any, k: Any, why: str
) -> None:
    with pytest.raises(InvalidInput, match=why) as err:
        local.search_patient(1, query, k=k)
    assert "knee" not in str(err.value)
    with pytest.raises(InvalidInput, match=why):
        local.search_literature(query, k=k)


def test_every_collection_name_is_checked(local: MemoryStore) -> None:
    for name in COLLECTIONS:
        assert local.count(name) == 0
    for call in (
        lambda: local.count("everything"),
        lambda: local.reset("everything"),
        lambda: local.search_patient(1, "knee", collection="everything"),
    ):
        with pytest.raises(InvalidInput, match="no memory collection"):
            call()
