"""The practice database: URL handling, engine, sessions, migrations and a UTC datetime type.

Times are stored as naive UTC and handed out as aware UTC datetimes, so SQLite and
PostgreSQL behave the same; the practice time zone is applied at the edges.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, Engine, event, inspect
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from tools.errors import ConfigError

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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for a checked URL; SQLite gets foreign keys, WAL and a busy timeout."""
    from tools.changes import install  # late: tools.changes imports the models, which import us

    install()  # every engine's sessions keep the memory change log
    url = normalise_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` with Alembic (the only way the schema is made)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


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


def head_revision() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()  # type: ignore[arg-type]
    assert head is not None
    return head
