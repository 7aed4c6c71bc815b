"""The validated resources of one import, by local key, until their patient is written.

Reading has to see every file before any patient can be written (a patient's observations
may sit in another NDJSON file than the patient), so the resources wait somewhere: in memory
for input up to `MEMORY_LIMIT` bytes, else in a scratch SQLite file that is deleted when the
import ends. A 100 MB Bulk Data export is never held in memory whole.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 64 * 1024 * 1024
_BATCH = 1000


def input_size(paths: Iterable[Path]) -> int:
    """Bytes of every file at `paths` (directories walked); unreadable ones count as 0."""
    total = 0
    for path in paths:
        try:
            if path.is_dir():
                total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            elif path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


class Spool:
    """Resources by key: a dict, or a scratch SQLite table when `on_disk`."""

    def __init__(self, *, on_disk: bool, directory: Path | None = None) -> None:
        self.on_disk = on_disk
        self._memory: dict[str, Mapping[str, Any]] = {}
        self._pending: list[tuple[str, str]] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._db: sqlite3.Connection | None = None
        if on_disk:
            self._tmp = tempfile.TemporaryDirectory(prefix="steve-import-", dir=directory)
            self._db = sqlite3.connect(Path(self._tmp.name) / "spool.db")
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("CREATE TABLE raw (key TEXT PRIMARY KEY, body TEXT NOT NULL)")

    @classmethod
    def for_paths(cls, paths: Iterable[Path], *, directory: Path | None = None) -> Spool:
        return cls(on_disk=input_size(paths) > MEMORY_LIMIT, directory=directory)

    def put(self, key: str, raw: Mapping[str, Any]) -> None:
        if self._db is None:
            self._memory[key] = raw
            return
        self._pending.append((key, json.dumps(raw, separators=(",", ":"))))
        if len(self._pending) >= _BATCH:
            self._flush()

    def get(self, key: str) -> Mapping[str, Any] | None:
        if self._db is None:
            return self._memory.get(key)
        self._flush()
        row = self._db.execute("SELECT body FROM raw WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def close(self) -> None:
        self._memory.clear()
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _flush(self) -> None:
        if self._db is not None and self._pending:
            self._db.executemany("INSERT OR IGNORE INTO raw VALUES (?, ?)", self._pending)
            self._pending.clear()
