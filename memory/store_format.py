"""Steve's format marker for an embedded Chroma directory: `steve-memory.json`.

Chroma opens whatever directory it is given: an older one is migrated in place without a
word, and one written by a newer Chroma is opened as far as it goes. So Steve writes a small
marker beside the data, `{"format": 1, "chromadb": "1.5.9", "written_by": "steve"}`, and
checks it before Chroma touches the directory: another chromadb MAJOR.MINOR, or a format
this Steve does not know, is refused. The fix is always the same and loses nothing: move
the directory aside and rebuild it from the practice database (`steve memory reindex`).

A directory with Chroma data and no marker was written by a Steve from before markers, or
by something else. Steve pinned chromadb 1.5 from the first release with memory until
markers came, so an unmarked directory is accepted, and marked, when this Steve still runs
chromadb 1.5 (nothing to migrate) and every collection in it is one of Steve's, stamped with
an embedding model. Anything else is refused rather than guessed at: refusing costs a
reindex, guessing wrong can cost the store.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Collection
from importlib.metadata import version
from pathlib import Path

from db.private_files import private_dir
from tools.errors import ConfigError

MARKER = "steve-memory.json"
FORMAT = 1
CHROMA_FILE = "chroma.sqlite3"
# The chromadb every Steve before markers was pinned to: the only one that wrote unmarked dirs.
UNMARKED_CHROMADB = "1.5"
FIX = "move it aside and run `steve memory reindex`"

_VERSION = re.compile(r"^\d+\.\d+(\.|$)")


def chromadb_version() -> str:
    return version("chromadb")


def major_minor(full: str) -> str:
    return ".".join(full.split(".")[:2])


def _refuse(path: Path, why: str) -> ConfigError:
    return ConfigError(f"Chroma directory {path} {why}: {FIX}")


def read_marker(path: Path) -> tuple[int, str]:
    """(format, chromadb version) from the directory's marker; refused when unreadable."""
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise _refuse(path, f"has an unreadable {MARKER}") from None
    if not isinstance(data, dict) or data.get("written_by") != "steve":
        raise _refuse(path, f"has a {MARKER} that Steve did not write")
    fmt, written_with = data.get("format"), data.get("chromadb")
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
        raise _refuse(path, f"has a {MARKER} with an unknown format {fmt!r}")
    if not isinstance(written_with, str) or not _VERSION.match(written_with):
        raise _refuse(path, f"has a {MARKER} with no valid chromadb version")
    return fmt, written_with


def check(path: Path, collections: Collection[str]) -> bool:
    """Refuse a directory this Steve must not open; True when its marker is to be (re)written.

    `collections` are Steve's collection names (an unmarked directory may hold only those).
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"Chroma directory {path} is not a directory")
    ours = chromadb_version()
    if (path / MARKER).exists():
        fmt, theirs = read_marker(path)
        if fmt > FORMAT:
            raise _refuse(
                path,
                f"is in Steve memory format {fmt} (written with chromadb {theirs}); this Steve "
                f"reads format {FORMAT} with chromadb {ours}",
            )
        if major_minor(theirs) != major_minor(ours):
            raise _refuse(
                path, f"was written with chromadb {theirs}; this Steve uses chromadb {ours}"
            )
        return theirs != ours  # a patch release: record who writes it now
    if not (path / CHROMA_FILE).exists():
        return True  # new or empty: marked before Chroma writes anything
    if major_minor(ours) != UNMARKED_CHROMADB:
        raise _refuse(
            path,
            f"has no {MARKER}, so the chromadb that wrote it is unknown; "
            f"this Steve uses chromadb {ours}",
        )
    foreign = [name for name, model in _collections(path) if name not in collections or not model]
    if foreign:
        raise _refuse(path, f"has no {MARKER} and holds {len(foreign)} collection(s) not Steve's")
    return True


def _collections(path: Path) -> list[tuple[str, str | None]]:
    """(name, embedding_model) of each collection, read without letting Chroma migrate."""
    uri = (path / CHROMA_FILE).resolve().as_uri() + "?mode=ro"
    conn = None
    try:
        conn = sqlite3.connect(uri, uri=True)
        rows = conn.execute(
            "SELECT c.name, (SELECT m.str_value FROM collection_metadata m "
            "WHERE m.collection_id = c.id AND m.key = 'embedding_model') FROM collections c"
        ).fetchall()
    except sqlite3.Error as exc:
        raise _refuse(
            path, f"cannot be opened ({type(exc).__name__}); it may be corrupt or not Chroma's"
        ) from exc
    finally:
        if conn is not None:
            conn.close()
    return [(str(name), model) for name, model in rows]


def write_marker(path: Path) -> None:
    """Write the marker atomically (a crash leaves the old marker or the new, never half)."""
    body = {"format": FORMAT, "chromadb": chromadb_version(), "written_by": "steve"}
    tmp = path / f".{MARKER}.tmp"
    try:
        private_dir(path)  # 0700: Chroma's files hold note text
        tmp.write_text(json.dumps(body) + "\n", encoding="utf-8")
        os.replace(tmp, path / MARKER)
    except OSError as exc:
        raise ConfigError(
            f"Chroma directory {path} cannot be written ({type(exc).__name__}): check its "
            "permissions and free space"
        ) from exc
