"""The `steve` command line: a table of commands, each loaded only when it runs.

`steve --help` lists every command from the table below without importing one, so it (and a
usage error) starts in a fraction of a second; running a command imports its module and only
what that module needs. A test compares the help with the one the eagerly built CLI printed.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from app.cli.console import err_console


@dataclass(frozen=True)
class Command:
    """Where a command lives and the line `steve --help` shows for it."""

    target: str  # "module:attribute": a typer.Typer (a command group) or a command function
    summary: str  # the first paragraph of the command's help, as its module words it


# In the order `steve --help` lists them.
COMMANDS: dict[str, Command] = {
    "demo": Command(
        "app.cli.demo:demo",
        "Create the demo practice in the data directory and print today's practice overview.",
    ),
    "overview": Command(
        "app.cli.overview:overview",
        "Today's practice overview: appointments, overdue referrals and labs, reorders, tasks.",
    ),
    "serve": Command(
        "app.cli.serve:serve",
        "Run the scheduled jobs (morning briefings, digests, sweeps, email delivery) and the\n"
        "HTTP API and web app.",
    ),
    "chat": Command(
        "app.cli.chat:chat",
        "Chat with Steve; every action on someone else's behalf waits for your approval.",
    ),
    "brief": Command(
        "app.cli.brief:brief",
        "A pre-appointment briefing: decisions first, every sentence citing its record.",
    ),
    "init": Command(
        "app.cli.init:init",
        "Create the data directory, bring the schema up to date, and create the first admin.",
    ),
    "patient": Command(
        "app.cli.patients:app", "Find patients and show their consolidated programme."
    ),
    "schedule": Command(
        "app.cli.schedule:app",
        "Free slots and visit blocks; book, cancel and reschedule appointments.",
    ),
    "referrals": Command("app.cli.referrals:app", "Referrals in and out of the practice."),
    "tasks": Command("app.cli.tasks:app", "Follow-up tasks for the team."),
    "literature": Command(
        "app.cli.literature:app",
        "Research tracking: fetch, digest and summarise the literature.",
    ),
    "protocols": Command("app.cli.literature:protocols_app", "Protocol-review prompts."),
    "memory": Command("app.cli.memory:app", "Long-term memory: reindex, status, search."),
    "preferences": Command("app.cli.preferences:app", "Standing preferences per physician."),
    "users": Command("app.cli.users:app", "User accounts and API tokens."),
    "jobs": Command("app.cli.jobs:app", "Scheduled jobs: list, run by hand, history, outbox."),
    "import": Command(
        "app.cli.imports:app",
        "Bring records in from other systems: FHIR, HL7 v2 lab results, lab CSV files.",
    ),
    "export": Command("app.cli.export:app", "Write the practice's records out as FHIR R4."),
    "sync": Command("app.cli.sync:app", "Stay in step with the practice's EHR."),
}


def load(name: str) -> Any:
    """The command `name` as Click runs it, built exactly as an eager `add_typer` or
    `command` on the top-level app would build it."""
    module, attribute = COMMANDS[name].target.split(":")
    found = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer()
    if isinstance(found, typer.Typer):
        holder.add_typer(found, name=name)
    else:
        holder.command(name)(found)
    return typer.main.get_group(holder).commands[name]


class _Summary(TyperCommand):
    """Stands in for a command not loaded yet: its name and summary in the help listing and
    in "did you mean"; never run (the group loads the real command first)."""


class SteveGroup(TyperGroup):
    """The top-level group: commands from COMMANDS, loaded when run; usage errors (bad option
    values, unknown commands) as one line, not a framed box."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, command in COMMANDS.items():
            self.commands.setdefault(name, _Summary(name, help=command.summary))

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in COMMANDS and isinstance(self.commands[args[0]], _Summary):
            self.commands[args[0]] = load(args[0])
        return super().resolve_command(ctx, args)

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
    cls=SteveGroup,
    name="steve",
    help="Steve, the chief of staff for an integrative-medicine practice.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@cli.callback()
def _steve() -> None:
    # Typer builds a group only for an app with commands or a callback; the commands come
    # from COMMANDS, so this empty callback is what makes `cli` a group.
    pass


def main() -> None:
    os.umask(0o077)  # whatever this process writes (database, chat, Chroma, emails) is private
    cli()


if __name__ == "__main__":
    main()
