"""MemoryStore under bad input and faults: foreign or corrupt directories, a Chroma server that
dies or hangs after opening, failures in the middle of an upsert.

A word-hashing embedder stands in for the model (fast, deterministic, and a text is still
found by its own words); what is under test is the store and Chroma, real ones throughout.
"""

from __future__ import annotations

import json
import math
import re
import signal
import socket
import subprocess
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from memory import store as store_module
from memory import store_format
from memory.documents import MemoryDocument
from memory.store import COLLECTIONS, MAX_CHUNKS, MemoryStore
from tests.chroma_server import STARTUP_TIMEOUT, _chroma_executable, _free_port
from tools.errors import ConfigError, InvalidInput, Unavailable

chromadb = pytest.importorskip("chromadb")
httpx = pytest.importorskip("httpx")

SECRET = "Zanzibar-hepatitis"  # patient text that must never reach an error message
FIX = "move it aside and run `steve memory reindex`"
CHROMADB = store_format.chromadb_version()


class WordHash:
    """Bag of words hashed into 384 dimensions, unit length: same words, same direction."""

    name = "test-word-hash"
    dim = 384

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        out = []
        for text in texts:
            vector = [0.0] * self.dim
            for word in re.findall(r"\w+", text.lower()):
                vector[zlib.crc32(word.encode()) % self.dim] += 1.0
            norm = math.sqrt(sum(x * x for x in vector)) or 1.0
            out.append([x / norm for x in vector])
        return out


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


def note(n: int, text: str, patient_id: int = 1) -> MemoryDocument:
    return MemoryDocument(f"note:{n}", "notes", text, {"patient_id": patient_id})


def paragraphs(n: int, tag: str = "old") -> str:
    """n paragraphs of about 1,000 characters: one chunk each."""
    return "\n\n".join(
        f"Paragraph {i} {tag}: " + " ".join(f"{tag}{i}w{j}" for j in range(120)) + "."
        for i in range(n)
    )


def chunk_ids(store: MemoryStore, source: str) -> list[str]:
    got = store.collection("notes").get(where={"source_id": source}, include=[])
    return sorted(got["ids"])


def one_line_without_data(err: pytest.ExceptionInfo[Exception], *data: str) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for text in (SECRET, *data):
        assert text not in message
    return message


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
    executable = _chroma_executable()
    if not Path(executable).exists():
        pytest.skip(f"no chroma executable at {executable}")
    port = _free_port()
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


# ------------------------------------------------------- format marker (embedded)


def write_marker(path: Path, **fields: object) -> None:
    body = {"format": 1, "chromadb": CHROMADB, "written_by": "steve", **fields}
    (path / store_format.MARKER).write_text(json.dumps(body))


def steve_directory(path: Path) -> Path:
    """A directory Steve wrote and used: one note in it."""
    MemoryStore.persistent(path, WordHash()).upsert([note(1, "Knee pain on stairs.")])
    return path


def test_a_new_directory_is_marked_on_first_open(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "chroma"
    MemoryStore.persistent(path, WordHash()).upsert([note(1, "Knee pain on stairs.")])
    marker = json.loads((path / store_format.MARKER).read_text())
    assert marker == {"format": 1, "chromadb": CHROMADB, "written_by": "steve"}
    assert MemoryStore.persistent(path, WordHash()).count("notes") == 1


@pytest.mark.parametrize("theirs", ["1.4.2", "0.6.3", "2.0.0"])
def test_another_chromadb_minor_is_refused_untouched(tmp_path: Path, theirs: str) -> None:
    path = steve_directory(tmp_path / "chroma")
    write_marker(path, chromadb=theirs)
    before = (path / "chroma.sqlite3").read_bytes()
    with pytest.raises(ConfigError) as err:
        MemoryStore.persistent(path, WordHash())
    message = one_line_without_data(err)
    assert str(path) in message and theirs in message and CHROMADB in message
    assert FIX in message
    assert (path / "chroma.sqlite3").read_bytes() == before  # Chroma never opened it


def test_another_patch_release_is_accepted_and_remarked(tmp_path: Path) -> None:
    path = steve_directory(tmp_path / "chroma")
    major, minor, *_ = CHROMADB.split(".")
    write_marker(path, chromadb=f"{major}.{minor}.999")
    assert MemoryStore.persistent(path, WordHash()).count("notes") == 1
    assert store_format.read_marker(path) == (1, CHROMADB)


@pytest.mark.parametrize(
    ("marker", "why"),
    [
        ({"format": 2}, "format 2"),
        ({"format": "1"}, "unknown format"),
        ({"format": True}, "unknown format"),
        ({"chromadb": None}, "no valid chromadb version"),
        ({"written_by": "someone"}, "Steve did not write"),
    ],
)
def test_an_unknown_or_newer_marker_is_refused(
    tmp_path: Path, marker: dict[str, object], why: str
) -> None:
    path = steve_directory(tmp_path / "chroma")
    write_marker(path, **marker)
    with pytest.raises(ConfigError, match=why) as err:
        MemoryStore.persistent(path, WordHash())
    assert str(path) in str(err.value) and FIX in str(err.value)


@pytest.mark.parametrize("garbage", [b"", b"{not json", b"\xff\xfe", b"[1, 2]"])
def test_an_unreadable_marker_is_refused(tmp_path: Path, garbage: bytes) -> None:
    path = steve_directory(tmp_path / "chroma")
    (path / store_format.MARKER).write_bytes(garbage)
    with pytest.raises(ConfigError, match=r"steve-memory\.json") as err:
        MemoryStore.persistent(path, WordHash())
    assert FIX in one_line_without_data(err)


def test_an_unmarked_steve_directory_from_before_markers_is_accepted(tmp_path: Path) -> None:
    path = steve_directory(tmp_path / "chroma")
    (path / store_format.MARKER).unlink()
    store = MemoryStore.persistent(path, WordHash())
    assert store.count("notes") == 1
    assert store_format.read_marker(path) == (1, CHROMADB)


def test_an_unmarked_directory_steve_did_not_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    from chromadb.config import Settings

    other = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
    other.get_or_create_collection("embeddings").add(ids=["a"], embeddings=[[1.0, 0.0]])
    with pytest.raises(ConfigError, match="not Steve's") as err:
        MemoryStore.persistent(path, WordHash())
    assert str(path) in str(err.value) and FIX in str(err.value)
    assert not (path / store_format.MARKER).exists()


def test_an_unmarked_directory_under_another_chromadb_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = steve_directory(tmp_path / "chroma")
    (path / store_format.MARKER).unlink()
    monkeypatch.setattr(store_format, "chromadb_version", lambda: "1.6.0")
    with pytest.raises(ConfigError, match=r"no steve-memory\.json") as err:
        MemoryStore.persistent(path, WordHash())
    assert "1.6.0" in str(err.value) and FIX in str(err.value)


@pytest.mark.parametrize("marked", [False, True])
def test_a_corrupt_database_is_a_clear_config_error(tmp_path: Path, marked: bool) -> None:
    path = tmp_path / "broken"
    path.mkdir()
    (path / "chroma.sqlite3").write_bytes(bytes(range(256)) * 64)
    if marked:  # past our own check: Chroma itself fails to open it
        write_marker(path)
    with pytest.raises(ConfigError, match="cannot be opened") as err:
        MemoryStore.persistent(path, WordHash())
    assert str(path) in one_line_without_data(err) and FIX in str(err.value)


def test_a_file_where_the_directory_should_be_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    path.write_text("not a directory")
    with pytest.raises(ConfigError, match="is not a directory"):
        MemoryStore.persistent(path, WordHash())


# ------------------------------------------------- a server that dies or hangs


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
