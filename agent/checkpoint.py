"""Where chat threads live: LangGraph's SQLite saver in the data directory by default, its
PostgreSQL saver when the practice database is PostgreSQL.

The SQLite file is separate from the practice database, and on PostgreSQL the saver's tables
go in their own schema (`langgraph`): Alembic owns the practice schema and must not meet
tables it did not make. A thread (and any approval waiting in it) survives a restart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.engine import make_url

from tools.db import normalise_database_url
from tools.private_files import private_dir, private_file

SCHEMA = "langgraph"
SQLITE_FILE = "chat.sqlite"


def is_postgres(db_url: str) -> bool:
    return make_url(normalise_database_url(db_url)).get_backend_name() == "postgresql"


@contextmanager
def open_checkpointer(*, db_url: str, sqlite_path: Path) -> Iterator[BaseCheckpointSaver]:
    """A ready checkpointer for the practice's backend (closed on exit)."""
    if is_postgres(db_url):
        with _postgres(db_url) as saver:
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    private_dir(sqlite_path.parent)
    private_file(sqlite_path)  # 0600, and SQLite gives its -wal and -shm files the same mode
    # The saver serialises access with its own lock, so one connection may serve threads.
    conn = sqlite3.connect(str(sqlite_path), check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=5000")
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


@contextmanager
def _postgres(db_url: str) -> Iterator[BaseCheckpointSaver]:
    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    url = make_url(normalise_database_url(db_url)).set(drivername="postgresql")
    conninfo = url.render_as_string(hide_password=False)
    # The settings PostgresSaver.from_conn_string uses, plus our schema on the search path.
    with psycopg.connect(
        conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as conn:
        # Another process may create it at the same moment.
        with suppress(psycopg.errors.UniqueViolation):
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"')
        conn.execute(f'SET search_path TO "{SCHEMA}"')
        saver = PostgresSaver(conn)  # type: ignore[arg-type]
        saver.setup()
        yield saver
