"""What every `steve` command shares: settings, the database, errors, tables and --json."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, DBAPIError, OperationalError, SQLAlchemyError
from sqlmodel import Session

from app.settings import Settings, get_settings
from db.engine import NotInitialised, make_engine, schema_revision, utcnow
from db.failures import chat_store_name, describe, store_name
from db.models import AuditEvent
from db.schema_check import check_current
from tools.access import AccessDenied
from tools.clock import as_of, parse_date, today_in
from tools.errors import SteveError

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts instead of tables.")
DATE_OPTION = typer.Option(
    None, "--date", help="The day to act as of, YYYY-MM-DD; default today in the practice zone."
)


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear line on stderr and a non-zero exit."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn Steve's errors (and database failures) into one line and an exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except SteveError as exc:
            fail(exc.display(), exc.exit_code)
        except ValidationError as exc:
            # loc + msg only: the input value itself may be patient data.
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "input"
            fail(f"invalid {where}: {first['msg']}")
        except (OverflowError, DataError):
            # A number or value the database cannot hold (an id past 2**31-1, a NUL): the
            # input's fault; the value itself is not repeated.
            fail("a value is out of range or cannot be stored (ids run from 1 to 2147483647)")
        except DBAPIError as exc:
            # The driver's text can quote SQL parameters (patient data): name the kind only.
            failure = describe(exc, store=_practice_store())
            if failure.kind == "refused" and not isinstance(exc, OperationalError):
                fail(f"database error ({type(exc).__name__}); nothing was changed", 3)
            fail(failure.message, failure.exit_code)
        except sqlite3.Error as exc:  # outside SQLAlchemy: the chat store (checkpoints)
            from app.chat_setup import checkpoint_path  # late: it loads the agent

            failure = describe(exc, store=chat_store_name(checkpoint_path(settings())))
            fail(failure.message, failure.exit_code)
        except SQLAlchemyError as exc:
            fail(f"database error ({type(exc).__name__}); nothing was changed", 3)

    return wrapper


def _practice_store() -> str:
    try:
        return store_name(settings().db_url)
    except Exception:  # the settings themselves are broken: say less rather than fail here
        return "the practice database"


def settings() -> Settings:
    return get_settings()


def today(given: str | None = None) -> date:
    """The day a command works on: `--date` when given, else today on the one clock.

    Every command that reads "today" takes it from here, so `steve demo --date D` and
    `steve tasks list --overdue --date D` agree, whatever the calendar says.
    """
    if given is not None:
        return parse_date(given, what="date")
    return today_in(settings().zone, utcnow())


def moment(given: str | None = None) -> datetime:
    """The instant that stands for `--date` (now, when it is today or not given)."""
    return as_of(today(given), settings().zone, utcnow())


def engine() -> Engine:
    """The practice database engine for every command but `init` and `demo`.

    Opening creates nothing: without a database file (or with an empty one) this is "not
    initialised". A schema behind this Steve, or not matching its revision, is a clear error.
    """
    s = settings()
    eng = make_engine(s.db_url, must_exist=True)
    try:
        if schema_revision(eng) is None:
            raise NotInitialised()
        check_current(eng)
    except BaseException:
        eng.dispose()
        raise
    return eng


def _keep_only_denials(session: Session) -> None:
    """Roll back a refused command's work but keep its denial audit rows (as the API does)."""
    pending = [*session.new, *session.identity_map.values()]
    denials = [
        o.model_dump(exclude={"id"})
        for o in pending
        if isinstance(o, AuditEvent) and o.action == "denied"
    ]
    session.rollback()
    session.add_all(AuditEvent(**row) for row in denials)
    session.commit()


@contextmanager
def transaction() -> Iterator[Session]:
    """One transaction per command: nothing partial is written on any error; a refusal by
    the access policy writes its audit row only."""
    eng = engine()
    try:
        with Session(eng, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except AccessDenied:
                _keep_only_denials(session)
                raise
            except BaseException:
                session.rollback()
                raise
    finally:
        eng.dispose()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        t.add_column(c)
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


def composer() -> Any:
    """The model-backed composer when a model is configured, else None (deterministic)."""
    from agent.documents.compose import composer_for

    return composer_for(settings().model_config_for_agent())


def contradiction_judge() -> Any:
    """The model-backed contradiction judge when a model is configured, else None."""
    from agent.evidence.judge import ModelContradictionJudge
    from agent.llm import make_chat_model

    model = make_chat_model(settings().model_config_for_agent())
    return ModelContradictionJudge(model) if model is not None else None


def progress_bar(width: int = 24, *, transient: bool = False) -> Progress:
    """The progress bar long commands draw on stderr (stdout stays for tables and JSON)."""
    return Progress(
        TextColumn(f"{{task.description:<{width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
    )


def stage_reporter(bar: Progress) -> Callable[[str, int, int], None]:
    """A progress(stage, done, total) callback drawing one bar per stage."""
    tasks: dict[str, TaskID] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return progress
