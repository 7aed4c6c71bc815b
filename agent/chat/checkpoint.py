"""Where chat threads live: LangGraph's SQLite saver in the data directory by default, its
PostgreSQL saver when the practice database is PostgreSQL.

The SQLite file is separate from the practice database, and on PostgreSQL the saver's tables
go in their own schema (`langgraph`): Alembic owns the practice schema and must not meet
tables it did not make. A thread (and any approval waiting in it) survives a restart.

The saver's tables are made by `setup_checkpointer`, which `steve init` and the API's
start-up call on a connection of their own, never inside a request: PostgreSQL's
`CREATE INDEX CONCURRENTLY` waits for every open transaction in the database, so run from a
request that holds one it would wait for ever. Every wait on the saver's connections is
bounded (connect, lock and statement timeouts); a timeout is an error, not a hang.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.engine import make_url

from db.engine import normalise_database_url
from db.private_files import private_dir, private_file
from tools.errors import Unavailable

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.checkpoint.sqlite import SqliteSaver

SCHEMA = "langgraph"
SQLITE_FILE = "chat.sqlite"

# Bounds on the saver's PostgreSQL connections (seconds).
CONNECT_TIMEOUT = 10
LOCK_TIMEOUT = 10
STATEMENT_TIMEOUT = 60
SETUP_TIMEOUT = 120  # the setup's concurrent index builds wait for older transactions


def is_postgres(db_url: str) -> bool:
    return make_url(normalise_database_url(db_url)).get_backend_name() == "postgresql"


@contextmanager
def open_checkpointer(*, db_url: str, sqlite_path: Path) -> Iterator[BaseCheckpointSaver]:
    """A ready checkpointer for the practice's backend (closed on exit).

    On PostgreSQL the tables are made first, on a connection of their own, when they are
    missing (`steve init` and the API's start-up have normally made them already).
    """
    if is_postgres(db_url):
        if not checkpoint_schema_ready(db_url=db_url):
            setup_checkpointer(db_url=db_url, sqlite_path=sqlite_path)
        with _postgres(db_url) as saver:
            yield saver
        return
    with _sqlite(sqlite_path) as saver:
        saver.setup()  # CREATE TABLE IF NOT EXISTS on the file: nothing waits on others
        yield saver


def setup_checkpointer(*, db_url: str, sqlite_path: Path) -> None:
    """Make (or bring up to date) the saver's tables, outside any caller's transaction."""
    if not is_postgres(db_url):
        with _sqlite(sqlite_path) as saver:
            saver.setup()
        return
    import psycopg

    with _postgres(db_url, statement_timeout=SETUP_TIMEOUT) as saver:
        try:
            saver.setup()
        except psycopg.errors.QueryCanceled:
            raise CheckpointSetupTimeout() from None


class CheckpointSetupTimeout(Unavailable):
    def __init__(self) -> None:
        super().__init__(
            f"setting up the chat tables (schema {SCHEMA}) waited more than "
            f"{SETUP_TIMEOUT} s for other transactions in the database to end; "
            "retry with `steve init` when the database is quieter"
        )


def checkpoint_schema_ready(*, db_url: str) -> bool:
    """Whether the PostgreSQL saver's tables exist at its latest migration (SQLite: True)."""
    if not is_postgres(db_url):
        return True
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver

    latest = len(PostgresSaver.MIGRATIONS) - 1
    with psycopg.connect(_conninfo(db_url), autocommit=True, **_bounds(STATEMENT_TIMEOUT)) as conn:
        found = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f'"{SCHEMA}".checkpoint_migrations',)
        ).fetchone()
        if not found or not found[0]:
            return False
        row = conn.execute(f'SELECT max(v) FROM "{SCHEMA}".checkpoint_migrations').fetchone()
    return row is not None and row[0] == latest


@contextmanager
def _sqlite(sqlite_path: Path) -> Iterator[SqliteSaver]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    private_dir(sqlite_path.parent)
    private_file(sqlite_path)  # 0600, and SQLite gives its -wal and -shm files the same mode
    # The saver serialises access with its own lock, so one connection may serve threads.
    conn = sqlite3.connect(str(sqlite_path), check_same_thread=False, timeout=5.0)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA secure_delete=ON")  # a deleted thread leaves no text behind
        yield SqliteSaver(conn)
    finally:
        conn.close()


def _conninfo(db_url: str) -> str:
    url = make_url(normalise_database_url(db_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _bounds(statement_timeout: int) -> dict[str, Any]:
    """Connection arguments that bound every wait: connecting, locks, statements."""
    return {
        "connect_timeout": CONNECT_TIMEOUT,
        "options": (
            f"-c lock_timeout={LOCK_TIMEOUT * 1000} "
            f"-c statement_timeout={statement_timeout * 1000} "
            f"-c idle_in_transaction_session_timeout={STATEMENT_TIMEOUT * 1000}"
        ),
    }


@contextmanager
def _postgres(
    db_url: str, *, statement_timeout: int = STATEMENT_TIMEOUT
) -> Iterator[PostgresSaver]:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    # The settings PostgresSaver.from_conn_string uses, plus our schema on the search path
    # and the bounds on every wait.
    with psycopg.connect(
        _conninfo(db_url),
        autocommit=True,
        prepare_threshold=0,
        row_factory=dict_row,
        **_bounds(statement_timeout),
    ) as conn:
        # Another process may create it at the same moment.
        with suppress(psycopg.errors.UniqueViolation):
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
        conn.execute(f'SET search_path TO "{SCHEMA}"')
        yield PostgresSaver(conn)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- erasure


def _variants(marks: list[str]) -> list[bytes]:
    return sorted({v.encode() for m in marks for v in (m, m.lower(), m.upper())})


def erase_threads(
    *, db_url: str, sqlite_path: Path, threads: set[str], marks: list[str]
) -> set[str]:
    """Delete the checkpoints of `threads` and of every thread whose saved state contains
    one of `marks` (the erased patient's name...); returns the threads deleted. On SQLite
    the file is then compacted, so no deleted text stays in free pages or the WAL."""
    if is_postgres(db_url):
        return _erase_threads_postgres(db_url, threads, marks)
    if not sqlite_path.exists():
        return set()
    found = set(threads)
    conn = sqlite3.connect(str(sqlite_path), timeout=10.0, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA secure_delete=ON")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"checkpoints", "writes"} <= tables:
            return set()
        for mark in _variants(marks):
            rows = conn.execute(
                "SELECT thread_id FROM checkpoints WHERE instr(checkpoint, ?) > 0 "
                "OR instr(metadata, ?) > 0 UNION SELECT thread_id FROM writes "
                "WHERE instr(value, ?) > 0",
                (mark, mark, mark),
            )
            found.update(str(r[0]) for r in rows)
        conn.execute("BEGIN IMMEDIATE")
        for thread in sorted(found):
            conn.execute("DELETE FROM checkpoints WHERE thread_id = ?", (thread,))
            conn.execute("DELETE FROM writes WHERE thread_id = ?", (thread,))
        conn.execute("COMMIT")
        compact_sqlite(conn)
    finally:
        conn.close()
    return found


def compact_sqlite(conn: sqlite3.Connection) -> None:
    """Rewrite the file without free pages and empty the WAL: deleted rows leave no bytes.
    Raises sqlite3.OperationalError when another connection keeps it from finishing."""
    conn.execute("VACUUM")
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise sqlite3.OperationalError("another connection kept the WAL from being emptied")


def _erase_threads_postgres(db_url: str, threads: set[str], marks: list[str]) -> set[str]:
    import psycopg

    found = set(threads)
    with psycopg.connect(_conninfo(db_url), autocommit=True, **_bounds(STATEMENT_TIMEOUT)) as conn:
        ready = conn.execute("SELECT to_regclass(%s)", (f'"{SCHEMA}".checkpoints',)).fetchone()
        if not ready or ready[0] is None:
            return set()
        conn.execute(f'SET search_path TO "{SCHEMA}"')
        for mark in _variants(marks):
            text = mark.decode()
            for special in ("\\", "%", "_"):
                text = text.replace(special, "\\" + special)
            like = f"%{text}%"
            rows = conn.execute(
                "SELECT thread_id FROM checkpoints WHERE checkpoint::text LIKE %s "
                "OR metadata::text LIKE %s "
                "UNION SELECT thread_id FROM checkpoint_blobs WHERE position(%s IN blob) > 0 "
                "UNION SELECT thread_id FROM checkpoint_writes WHERE position(%s IN blob) > 0",
                (like, like, mark, mark),
            )
            found.update(str(r[0]) for r in rows)
        with conn.transaction():
            for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"):
                conn.execute(
                    f"DELETE FROM {table} WHERE thread_id = ANY(%s)",
                    (sorted(found),),
                )
    return found
