"""Bulk writing of generated rows: FK order, chunked executemany, sequence reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, insert
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on the metadata)
from tools.errors import InvalidInput

CHUNK = 5000


def ensure_empty(conn: Connection) -> None:
    """Refuse a database that already holds a practice: the demo owns its ids."""
    for name in ("practitioner", "patient", "practice_meta"):
        table = SQLModel.metadata.tables[name]
        if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            raise InvalidInput(
                f"the database already holds data (table {name}); the demo needs an empty, "
                "migrated database"
            )


def write_rows(
    conn: Connection,
    rows: dict[str, list[dict[str, Any]]],
    report: Callable[[str, int, int], None],
) -> dict[str, int]:
    """Insert every table's rows in foreign-key order; returns rows written per table."""
    tables = [t for t in SQLModel.metadata.sorted_tables if rows.get(t.name)]
    total = sum(len(rows[t.name]) for t in tables)
    done = 0
    counts = {t.name: 0 for t in SQLModel.metadata.sorted_tables}
    for table in tables:
        columns = [c.name for c in table.columns]
        defaults = _defaults(table)
        data = rows[table.name]
        for start in range(0, len(data), CHUNK):
            # Every row gets every column, so one compiled statement serves the whole chunk;
            # a NOT NULL column the generator leaves out gets its default, not NULL.
            chunk = [
                {c: row[c] if row.get(c) is not None else defaults.get(c) for c in columns}
                for row in data[start : start + CHUNK]
            ]
            conn.execute(insert(table), chunk)
            done += len(chunk)
            report("writing", done, total)
        counts[table.name] = len(data)
    return counts


def _defaults(table: sa.Table) -> dict[str, Any]:
    """The scalar defaults of a table's NOT NULL columns (e.g. patient.deceased = false)."""
    found: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        if not column.nullable and default is not None and default.is_scalar:
            found[column.name] = getattr(default, "arg", None)
    return found


def reset_sequences(conn: Connection, tables: list[str]) -> None:
    """On PostgreSQL, move each id sequence past the explicit ids the demo wrote, and give
    the planner statistics for the freshly loaded tables (autovacuum would, a minute later)."""
    if conn.dialect.name != "postgresql":
        return  # SQLite picks max(rowid) + 1 by itself
    conn.execute(sa.text("ANALYZE " + ", ".join(f'"{name}"' for name in tables)))
    for name in tables:
        table = SQLModel.metadata.tables[name]
        if "id" not in table.c:
            continue
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:t, 'id'), (SELECT MAX(id) FROM \"{name}\"))"
            ),
            {"t": f'"{name}"'},
        )
