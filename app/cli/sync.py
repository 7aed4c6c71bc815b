"""`steve sync`: stay in step with the practice's EHR (`steve sync fhir`, `steve sync status`)."""

from __future__ import annotations

import typer
from sqlmodel import Session

from app.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    engine,
    err_console,
    handle_errors,
    settings,
    table,
)
from tools.errors import ConfigError, InvalidInput
from tools.interop.fhir.sync.config import RESOURCE_TYPES
from tools.interop.fhir.sync.cursor import parse_instant, read_cursors

app = typer.Typer(help="Stay in step with the practice's EHR.", no_args_is_help=True)


def _since(text: str | None) -> str | None:
    if text is None:
        return None
    if parse_instant(text) is None:
        raise InvalidInput(
            "--since is not a FHIR instant or date (e.g. 2026-01-31 or 2026-01-31T08:00:00Z)"
        )
    return text.strip()


def _types(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in names if t not in RESOURCE_TYPES]
    if unknown or not names:
        first = unknown[0] if unknown else "(none)"
        raise InvalidInput(
            f"--types: unknown resource type {first}; use {', '.join(RESOURCE_TYPES)}"
        )
    return names


@app.command("fhir")
@handle_errors
def fhir(
    since: str | None = typer.Option(
        None, "--since", help="Read changes from this instant or date, not the saved cursors."
    ),
    types: str | None = typer.Option(
        None, "--types", help="Comma-separated resource types; default the settings' list."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Read and count what changed; write nothing, move no cursor."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Pull what changed on the EHR's FHIR server since the last sync (STEVE_EHR__*)."""
    from tools.interop.fhir.sync.run import run_sync

    s = settings()
    ehr = s.ehr
    if not ehr.base_url:
        raise ConfigError("setting STEVE_EHR__BASE_URL: not set (the EHR's FHIR base URL)")
    report = run_sync(
        engine=engine(),
        ehr=ehr,
        data_dir=s.data_dir,
        resource_types=_types(types),
        since=_since(since),
        dry_run=dry_run,
    )
    if as_json:
        emit_json(report.as_dict())
        return
    rows = [
        (kind, report.read[kind], report.cursors.get(kind, ""))
        for kind in RESOURCE_TYPES
        if kind in report.read
    ]
    title = f"{'Would read' if dry_run else 'Read'} from {report.source_system}"
    console.print(table(title, ["type", "resources", "cursor now"], rows))
    counts = ", ".join(f"{v} {k}" for k, v in sorted(report.counts.items()))
    console.print(f"{report.pages} pages; {counts or 'nothing written'}")
    for problem in report.problems:
        err_console.print(f"problem: {problem}", highlight=False, soft_wrap=True)


@app.command("status")
@handle_errors
def status(as_json: bool = JSON_OPTION) -> None:
    """How far each resource type has been read, per EHR (the configured one, else all)."""
    system = settings().ehr.system or None
    with Session(engine()) as session:
        cursors = read_cursors(session=session, source_system=system)
    if as_json:
        emit_json(
            [{"source_system": s, "resource_type": t, "last_updated": u} for s, t, u in cursors]
        )
        return
    if not cursors:
        console.print("No EHR has been synced yet.")
        return
    console.print(table("Sync cursors", ["EHR", "type", "read up to"], cursors))
