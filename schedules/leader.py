"""Only one `steve serve` runs the scheduled jobs: the leader.

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) taken on a connection of
its own, held for as long as the process lives. The server releases it the moment that
session ends, so a leader killed by SIGKILL (or whose machine vanished, once TCP gives up)
frees it without anyone's help; standbys try again every `leader_poll_seconds` and the first
to get it starts the scheduler. The leader checks its connection on the same beat and steps
down if it is gone (the lock went with it). Advisory locks belong to one database, so
practices sharing a server do not contend.

SQLite: one machine, so an exclusive `flock` on a lock file beside the database file
(`steve.db.serve-lock`); the kernel drops it when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)
LOCK_KEY = 0x5354_4556_4553_4348  # 'STEVESCH': the scheduler's advisory lock


class Leadership(Protocol):
    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...


class PostgresLeader:
    def __init__(self, engine: Engine, key: int = LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._conn: Any = None

    def try_acquire(self) -> bool:
        try:
            if self._conn is None:
                # Its own connection, out of the pool's reach: the lock lives with it.
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = bool(
                self._conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}
                ).scalar()
            )
        except Exception as exc:  # unreachable database: stay a standby, try again later
            log.warning("leader election: database unavailable (%s)", type(exc).__name__)
            self._drop()
            return False
        return got

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            # Our own session's lock shows in pg_locks as long as the session is alive.
            held = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = :k"
                ),
                {"k": self.key},
            ).scalar()
        except Exception as exc:
            log.warning("leader lock connection lost (%s)", type(exc).__name__)
            self._drop()
            return False
        return bool(held)

    def release(self) -> None:
        if self._conn is not None:
            # If this fails the session is going anyway, and closing it releases the lock.
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool: a pooled lock would outlive us
                conn.close()
            except Exception:
                pass


class FileLeader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def leadership_for(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return PostgresLeader(engine)
    database = engine.url.database
    assert database, "SQLite engines in Steve always name a file"
    return FileLeader(Path(f"{database}.serve-lock"))
