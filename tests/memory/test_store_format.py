"""The Steve-side format marker of an embedded Chroma directory (memory/store_format.py):
foreign, newer, older-minor, unreadable and corrupt directories are refused before Chroma
can touch them; real directories throughout, a word-hashing embedder for speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory import store_format
from memory.store import MemoryStore
from tests.support.memory_fakes import FIX, WordHash, note, one_line_without_data
from tools.errors import ConfigError

chromadb = pytest.importorskip("chromadb")

CHROMADB = store_format.chromadb_version()


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
