"""`steve init`: the data directory, the schema, the chat thread storage and the first admin."""

from __future__ import annotations

import typer

from app.cli import users
from app.cli.common import console, handle_errors, settings
from db import schema_check
from db.engine import make_engine, migrate, schema_revision
from db.private_files import private_dir, tighten


@handle_errors
def init(
    admin: str = typer.Option("admin", "--admin", help="Username of the first admin."),
    no_admin: bool = typer.Option(False, "--no-admin", help="Do not create the first admin."),
    repair: bool = typer.Option(
        False,
        "--repair",
        help="SQLite: rebuild tables an interrupted migration left missing (nothing is lost).",
    ),
) -> None:
    """Create the data directory, bring the schema up to date, and create the first admin."""
    s = settings()
    private_dir(s.data_dir)
    tightened = tighten(s.data_dir)  # files an older Steve made world-readable
    engine = make_engine(s.db_url)
    try:
        before = schema_revision(engine)
        if repair:
            fixed = schema_check.repair(engine)
            if not fixed.ok:
                console.print(f"Repaired: {fixed.describe()}", highlight=False)
        migrate(engine)
        after = schema_revision(engine)
        schema_check.check_schema(engine)
    finally:
        engine.dispose()
    tighten(s.data_dir)  # the database's -wal and -shm files
    state = "created" if before is None else ("upgraded" if before != after else "up to date")
    console.print(f"Practice database {state} (schema {after}); data directory {s.data_dir}")
    if tightened:
        console.print(f"Made {tightened} file(s) in the data directory private (0600/0700).")
    from app.wiring import prepare_checkpointer

    # The chat threads' tables, here rather than in a first chat request (on PostgreSQL
    # their concurrent index builds wait for every open transaction).
    prepare_checkpointer(s)
    console.print("Chat thread storage ready.")
    if not no_admin:
        users.first_admin(admin)
