"""The practice database: URL handling, engine, sessions, migrations and a UTC datetime type.

Times are stored as naive UTC and handed out as aware UTC datetimes, so SQLite and
PostgreSQL behave the same; the practice time zone is applied at the edges.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Engine, event, inspect
from sqlalchemy import text as sa_text
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from db import faults
from db.errors import ConfigError
from db.private_files import private_dir, private_file

T = TypeVar("T")
V = TypeVar("V")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_SUPPORTED = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}


def normalise_database_url(url: str) -> str:
    """Check a database URL and pick our driver; raise ConfigError naming what is wrong.

    The message never echoes the URL itself, which may hold a password.
    """
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ConfigError(
            "database URL is malformed; expected sqlite:///path/to/steve.db "
            "or postgresql://user@host:5432/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in _SUPPORTED:
        raise ConfigError(
            f"database URL scheme {parsed.drivername!r} is not supported; use sqlite or postgresql"
        )
    if backend == "sqlite":
        if not parsed.database:
            raise ConfigError(
                "SQLite database URL names no file (in-memory databases are not kept)"
            )
        return parsed.render_as_string(hide_password=False)
    if not parsed.database:
        raise ConfigError("PostgreSQL database URL names no database")
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername=_SUPPORTED["postgresql"])
    return parsed.render_as_string(hide_password=False)


# SQLite allows 999 bound parameters per statement (before 3.32); IN lists stay under it.
IN_LIMIT = 900


def in_batches(values: Sequence[V], size: int = IN_LIMIT) -> Iterator[Sequence[V]]:
    """Slices of `values` small enough for one `IN (...)` on every backend."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, naive UTC stored, aware UTC out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class NotInitialised(ConfigError):
    """The practice database does not exist yet (and a read-only command must not make it)."""

    def __init__(self) -> None:
        super().__init__("the practice database is not initialised; run `steve init` first")


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other backends."""
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    assert parsed.database is not None
    return Path(parsed.database)


def make_engine(url: str, *, must_exist: bool = False, **kwargs: Any) -> Engine:
    """An engine for a checked URL; SQLite gets foreign keys, WAL and a busy timeout.

    A SQLite file and its directory are made private (0600/0700) when this creates them; with
    `must_exist` nothing is created and a missing file raises NotInitialised.
    """
    from db.changelog import install  # late: db.changelog imports the models, which import us

    install()  # every engine's sessions keep the memory change log
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        assert path is not None
        if must_exist:
            if not path.is_file():
                raise NotInitialised()
        else:
            private_dir(path.parent)
            private_file(path)  # SQLite gives its -wal and -shm files the same mode
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction per operation: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


@contextmanager
def explicit_transactions(engine: Engine) -> Iterator[Connection]:
    """A connection whose transactions are real ones, savepoints included.

    pysqlite opens transactions itself, only before INSERT/UPDATE/DELETE: DDL ran in
    autocommit, and a SAVEPOINT issued first opened the transaction itself, so releasing it
    committed everything. Here the driver's own handling is off and every transaction
    SQLAlchemy begins is an explicit BEGIN IMMEDIATE (SQLAlchemy's documented pysqlite recipe,
    on this one connection only). Other backends get a plain connection.
    """
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            yield conn
            return
        dbapi = conn.connection.driver_connection
        previous = dbapi.isolation_level  # type: ignore[union-attr]
        dbapi.isolation_level = None  # type: ignore[union-attr]

        def begin(c: Connection) -> None:
            c.exec_driver_sql("BEGIN IMMEDIATE")

        event.listen(conn, "begin", begin)
        try:
            yield conn
        finally:
            conn.rollback()  # nothing is left open when the connection goes back to the pool
            event.remove(conn, "begin", begin)
            dbapi.isolation_level = previous  # type: ignore[union-attr]


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection on which each migration is one real transaction, DDL included
    (`explicit_transactions`)."""
    with explicit_transactions(engine) as conn:
        if (faults.active() or "").startswith(DDL_FAULT):
            event.listen(conn, "after_cursor_execute", _count_ddl())
        yield conn


# Test-only fault points `migration_ddl_<n>`: die right after the n-th DDL statement.
DDL_FAULT = "migration_ddl_"


def _count_ddl() -> Any:
    count = 0

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal count
        if statement.lstrip().split(None, 1)[0].upper() in ("CREATE", "DROP", "ALTER"):
            count += 1
            faults.fault(f"{DDL_FAULT}{count}")

    return after


def migrate(engine: Engine, revision: str = "head", *, check: bool = True) -> None:
    """Bring the schema up to `revision` with Alembic (the only way the schema is made).

    First (`check`) the schema must match the revision it is stamped with: migrating a
    database with tables missing would fail half-way or, worse, report success.
    """
    from alembic import command

    if check:
        from db.schema_check import check_schema  # late: it migrates scratch databases

        check_schema(engine)
    command.upgrade(_alembic_config(engine), revision)


VERSION_TABLE = "alembic_version"


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database.

    Read with a plain SELECT, as Alembic's MigrationContext reads it, so that a command's
    schema check does not import Alembic (a third of a second).
    """
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        stamped = conn.execute(sa_text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
        revisions = list(stamped)
    if len(revisions) > 1:
        raise ConfigError(f"the database is stamped with several revisions: {sorted(revisions)}")
    return revisions[0] if revisions else None


def has_table(engine: Engine, name: str) -> bool:
    return inspect(engine).has_table(name)


def reset_schema(engine: Engine) -> None:
    """Drop every table through the migrations and build them again (demo rebuilds only)."""
    from alembic import command

    cfg = _alembic_config(engine)
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")


def get_for_update(session: Session, model: type[T], ident: int) -> T | None:
    """Read a row for a check-then-write change, locked until the transaction ends.

    PostgreSQL takes a row lock (SELECT ... FOR UPDATE). pysqlite ignores FOR UPDATE and starts
    its transaction only at the first write, so on SQLite a no-op UPDATE takes the database's
    write lock first; a concurrent writer then waits (busy timeout) and reads the fresh row.
    """
    if session.get_bind().dialect.name == "sqlite":
        table = model.__table__  # type: ignore[attr-defined]
        session.execute(sa_update(table).where(table.c.id == ident).values(id=table.c.id))
    return session.get(model, ident, with_for_update=True, populate_existing=True)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration this code knows (read once: the files do not change under us).

    Read from the `revision` and `down_revision` lines of the migration files, without
    importing Alembic; anything beyond one straight line of plain revisions (a merge, a
    branch, a line not written as Alembic writes it) is left to Alembic's own reading.
    """
    return _linear_head(MIGRATIONS_DIR / "versions") or _alembic_head()


_REVISION_LINE = re.compile(
    r"""^(down_revision|revision)\s*(?::[^=]+)?=\s*(?:None|(['"])([\w.-]+)\2)\s*$""",
    re.MULTILINE,
)


def _linear_head(versions: Path) -> str | None:
    """The one revision no other migration revises, when the files form one plain line."""
    revisions: set[str] = set()
    revised: set[str | None] = set()
    for path in versions.glob("*.py"):
        found = {m.group(1): m.group(3) for m in _REVISION_LINE.finditer(path.read_text())}
        if "revision" not in found or found["revision"] is None or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        revised.add(found["down_revision"])
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 and None in revised else None


def _alembic_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()  # type: ignore[arg-type]
    assert head is not None
    return head
