"""Does the database hold the schema its Alembic revision says it does?

Migrations are atomic now (db.engine.migration_connection), but a database migrated by an
older Steve, restored from a partial copy or edited by hand can say "0006" and lack tables.
Such a database is reported as what it is, with the way out, instead of failing later with
"no such table". On SQLite `steve init --repair` rebuilds what a revision's migrations made
when nothing would be lost; otherwise the way out is the last backup.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy import text as sa_text

from db.engine import (
    VERSION_TABLE,
    head_revision,
    migrate,
    migration_connection,
    schema_revision,
)
from db.errors import ConfigError

WAY_OUT = "restore the database from a backup or run `steve init --repair`"


class SchemaMismatch(ConfigError):
    """The tables and columns do not match the revision the database is stamped with."""


class SchemaBehind(ConfigError):
    """The database is at an older revision than this Steve needs."""


@dataclass
class SchemaReport:
    revision: str | None
    missing_tables: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)  # "table.column"
    extra_tables: list[str] = field(default_factory=list)  # Steve's, from a later revision

    @property
    def ok(self) -> bool:
        return not (self.missing_tables or self.missing_columns or self.extra_tables)

    def describe(self) -> str:
        parts = []
        if self.missing_tables:
            parts.append(_listing("table", "is", "are", self.missing_tables, "missing"))
        if self.missing_columns:
            parts.append(_listing("column", "is", "are", self.missing_columns, "missing"))
        if self.extra_tables:
            parts.append(
                _listing("table", "is", "are", self.extra_tables, "left by an unfinished upgrade")
            )
        return f"schema at revision {self.revision} but " + "; ".join(parts)


def _listing(noun: str, one: str, many: str, names: list[str], what: str) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    verb = one if len(names) == 1 else many
    return f"{noun}{'' if len(names) == 1 else 's'} {shown} {verb} {what}"


@lru_cache(maxsize=8)
def _reference(revision: str) -> tuple[dict[str, frozenset[str]], dict[str, tuple[str, ...]]]:
    """Tables -> columns, and tables -> SQLite DDL (table then indexes), as the migrations
    make them at `revision`: migrated into a scratch SQLite file and read back."""
    with tempfile.TemporaryDirectory(prefix="steve-schema-") as tmp:
        from db.engine import make_engine

        scratch = make_engine(f"sqlite:///{Path(tmp) / 'reference.db'}")
        try:
            migrate(scratch, revision, check=False)
            tables = _tables(scratch)
            with scratch.connect() as conn:
                rows = conn.execute(
                    sa_text(
                        "SELECT tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                        "ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name"
                    )
                ).all()
        finally:
            scratch.dispose()
    ddl: dict[str, list[str]] = {}
    for table, sql in rows:
        ddl.setdefault(table, []).append(sql)
    return tables, {t: tuple(v) for t, v in ddl.items()}


def _expected(revision: str) -> dict[str, frozenset[str]]:
    """Tables -> columns at `revision`; at head the models say it without migrating."""
    if revision == head_revision():
        return _model_tables()
    return _reference(revision)[0]


def _model_tables() -> dict[str, frozenset[str]]:
    from sqlmodel import SQLModel

    import db.models  # noqa: F401  (registers every table)

    return {t.name: frozenset(c.name for c in t.columns) for t in SQLModel.metadata.sorted_tables}


def _tables(engine: Engine) -> dict[str, frozenset[str]]:
    with engine.connect() as conn:
        found = inspect(conn).get_multi_columns()
    return {
        table: frozenset(c["name"] for c in cols)
        for (_schema, table), cols in found.items()
        if table != VERSION_TABLE
    }


def inspect_schema(engine: Engine) -> SchemaReport:
    """Compare the database with what its revision's migrations make (tables and columns)."""
    revision = schema_revision(engine)
    report = SchemaReport(revision)
    if revision is None:
        return report
    actual = _tables(engine)
    expected = _expected(revision)
    known = set(_model_tables())
    report.missing_tables = sorted(set(expected) - set(actual))
    report.missing_columns = sorted(
        f"{t}.{c}" for t in expected if t in actual for c in expected[t] - actual[t]
    )
    report.extra_tables = sorted((set(actual) & known) - set(expected))
    return report


def check_schema(engine: Engine) -> None:
    """Raise SchemaMismatch (with the way out) unless the schema matches its revision."""
    report = inspect_schema(engine)
    if not report.ok:
        raise SchemaMismatch(f"{report.describe()}: {WAY_OUT}")


def check_current(engine: Engine) -> None:
    """For commands that use the database: at this Steve's revision, and whole."""
    have, need = schema_revision(engine), head_revision()
    if have != need:
        raise SchemaBehind(
            f"the database schema is at {have}, this Steve needs {need}; run `steve init`"
        )
    check_schema(engine)


def repair(engine: Engine) -> SchemaReport:
    """Make a SQLite database hold exactly its revision's schema, when nothing is lost by it:
    missing tables are created as the migrations make them, tables an unfinished upgrade left
    are dropped if empty. Missing columns or non-empty stray tables need the backup."""
    report = inspect_schema(engine)
    if report.ok:
        return report
    if engine.dialect.name != "sqlite":
        raise SchemaMismatch(
            f"{report.describe()}: `--repair` works on SQLite only; restore from a backup"
        )
    if report.missing_columns:
        raise SchemaMismatch(f"{report.describe()}: restore the database from a backup")
    assert report.revision is not None
    _, ddl = _reference(report.revision)
    with migration_connection(engine) as conn, conn.begin():
        for table in report.extra_tables:
            if conn.execute(sa_text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
                raise SchemaMismatch(
                    f"{report.describe()}: table {table} holds rows; restore from a backup"
                )
        for table in report.extra_tables:
            conn.exec_driver_sql(f'DROP TABLE "{table}"')
        for table in report.missing_tables:
            for statement in ddl[table]:
                conn.exec_driver_sql(statement)
    return report
