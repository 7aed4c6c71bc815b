"""The `steve` command line."""

from __future__ import annotations

import typer

from app.cli import demo, overview, patients, referrals, schedule, tasks
from app.cli.common import console, handle_errors, settings
from tools.db import make_engine, migrate, schema_revision

cli = typer.Typer(
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
cli.command("demo")(demo.demo)
cli.command("overview")(overview.overview)


@cli.command()
@handle_errors
def init() -> None:
    """Create the data directory and bring the practice database schema up to date."""
    s = settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(s.db_url)
    try:
        before = schema_revision(engine)
        migrate(engine)
        after = schema_revision(engine)
    finally:
        engine.dispose()
    state = "created" if before is None else ("upgraded" if before != after else "up to date")
    console.print(f"Practice database {state} (schema {after}); data directory {s.data_dir}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
