"""Alembic environment: the engine comes from Steve (db.engine.migrate), not from an ini file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)
from db.engine import check_foreign_keys, migration_connection

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        raise RuntimeError("run migrations through db.engine.migrate(engine)")
    with migration_connection(engine) as connection:
        # Each migration commits on its own, DDL and version stamp together: a process killed
        # half-way leaves the database at the last whole revision (SQLite and PostgreSQL).
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            transactional_ddl=True,
            transaction_per_migration=True,
            # Inside each revision's transaction, before it commits (SQLite runs them with
            # foreign keys off: see db.engine.migration_connection).
            on_version_apply=lambda **_: check_foreign_keys(connection),
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
