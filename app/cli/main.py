"""The `steve` command line."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from app.cli import (
    brief,
    chat,
    demo,
    jobs,
    literature,
    memory,
    overview,
    patients,
    preferences,
    referrals,
    schedule,
    serve,
    tasks,
    users,
)
from app.cli.common import console, err_console, handle_errors, settings
from db import schema_check
from db.engine import make_engine, migrate, schema_revision
from db.private_files import private_dir, tighten


class OneLineErrors(TyperGroup):
    """Usage errors (bad option values, unknown commands) as one line, not a framed box."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone_mode = kwargs.pop("standalone_mode", True)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[misc]
        except typer.Abort:
            err_console.print("aborted")
            sys.exit(1)
        except Exception as exc:
            # Click's exceptions (vendored or not) carry show(), exit_code and ctx.
            if not (hasattr(exc, "show") and hasattr(exc, "exit_code")):
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()
            else:
                ctx = getattr(exc, "ctx", None)
                where = ctx.command_path if ctx is not None else "steve"
                message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
                err_console.print(
                    f"[bold red]error:[/] {message} (see `{where} --help`)",
                    highlight=False,
                    soft_wrap=True,
                )
            sys.exit(exc.exit_code)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


cli = typer.Typer(
    cls=OneLineErrors,
    name="steve",
    help="Steve, the chief of staff for an integrative-medicine practice.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
cli.add_typer(patients.app, name="patient")
cli.add_typer(schedule.app, name="schedule")
cli.add_typer(referrals.app, name="referrals")
cli.add_typer(tasks.app, name="tasks")
cli.add_typer(literature.app, name="literature")
cli.add_typer(literature.protocols_app, name="protocols")
cli.add_typer(memory.app, name="memory")
cli.add_typer(preferences.app, name="preferences")
cli.add_typer(users.app, name="users")
cli.add_typer(jobs.app, name="jobs")
cli.command("demo")(demo.demo)
cli.command("overview")(overview.overview)
cli.command("serve")(serve.serve)
cli.command("chat")(chat.chat)
cli.command("brief")(brief.brief)


@cli.command()
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
    from agent.chat.checkpoint import setup_checkpointer
    from app.wiring import checkpoint_path

    # The chat threads' tables, here rather than in a first chat request (on PostgreSQL
    # their concurrent index builds wait for every open transaction).
    setup_checkpointer(db_url=s.db_url, sqlite_path=checkpoint_path(s))
    console.print("Chat thread storage ready.")
    if not no_admin:
        users.first_admin(admin)


def main() -> None:
    os.umask(0o077)  # whatever this process writes (database, chat, Chroma, emails) is private
    cli()


if __name__ == "__main__":
    main()
