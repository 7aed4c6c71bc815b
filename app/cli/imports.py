"""`steve import`: bring a practice's records in from its EHR and laboratories.

- `steve import fhir PATH...`: FHIR R4 Bundles, directories of them, Bulk Data NDJSON.
- `steve import review`: the patients an import held because they matched an existing
  patient by name and birth date only; `--merge`, `--create` or `--reject` decides one.

Importing is an operator's task, like `steve init`: whoever runs the command already holds
the practice's data directory. Every import is recorded (an `import_run` row, one audit row
per patient written, actor `cli:import`). Problems are printed by file, entry and field and
never quote a value from the records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from app.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    engine,
    handle_errors,
    settings,
    table,
    transaction,
)
from tools.errors import InvalidInput

ACTOR = "cli:import"
SHOWN_PROBLEMS = 50

app = typer.Typer(
    help="Bring records in from other systems: FHIR, HL7 v2 lab results, lab CSV files.",
    no_args_is_help=True,
)


@app.command("fhir")
@handle_errors
def fhir(
    paths: list[Path] = typer.Argument(
        ..., help="Bundle (.json) or Bulk Data (.ndjson) files, or directories of them."
    ),
    source: str | None = typer.Option(
        None,
        "--source",
        help="The system the records come from (its base URL or a name); default: the base"
        " URL the input's full URLs share, else 'local'. Give the same one on every import"
        " from one EHR.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would change and write nothing."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import FHIR R4 records: patients, practitioners, conditions, medications, results...

    Exits 1 when a file could not be read at all or nothing was read; problems with single
    resources are reported and the rest is imported."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InvalidInput(f"no such file or directory: {', '.join(missing)}")
    if source is not None and not source.strip():
        raise InvalidInput("--source is empty")
    from tools.interop.fhir.importing import import_fhir

    eng = engine()
    try:
        report = import_fhir(
            engine=eng,
            paths=paths,
            source_system=source.strip() if source else None,
            dry_run=dry_run,
            actor=ACTOR,
            origin="cli",
            data_dir=settings().data_dir,
        )
    finally:
        eng.dispose()
    summary = report.summary()
    if as_json:
        emit_json({**summary, "problem_lines": [p.line() for p in report.problems]})
    else:
        _print_summary(summary, problems=[p.line() for p in report.problems])
    # A file that could not be read at all (not JSON, not FHIR, an unknown bundle type) or
    # an import that read nothing fails the command; problems with single resources are
    # reported above and the rest is imported.
    unreadable = [p for p in report.problems if p.where is None]
    if unreadable or not summary["read"]:
        raise typer.Exit(1)


def _print_summary(summary: dict[str, Any], *, problems: list[str]) -> None:
    prefix = "would import" if summary["dry_run"] else "imported"
    console.print(f"{prefix} from [bold]{summary['source_system']}[/]", highlight=False)
    read = ", ".join(f"{n} {t}" for t, n in summary["read"].items()) or "nothing"
    console.print(f"read: {read}", highlight=False)
    for outcome in ("created", "updated", "unchanged", "stale"):
        rows = summary["rows"].get(outcome)
        if rows:
            listed = ", ".join(f"{n} {t}" for t, n in rows.items())
            console.print(f"{outcome}: {listed}", highlight=False)
    patients = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in summary["patients"].items())
    if patients:
        console.print(f"patients: {patients}", highlight=False)
    if summary["held_for_review"]:
        ids = ", ".join(str(i) for i in summary["held_for_review"])
        console.print(
            f"held for review (same name and birth date, no shared identifier): {ids};"
            " decide with `steve import review`",
            highlight=False,
        )
    for label in ("unmapped", "invalid", "skipped"):
        if summary[label]:
            listed = ", ".join(f"{n} {t}" for t, n in summary[label].items())
            console.print(f"{label}: {listed}", highlight=False)
    for line in problems[:SHOWN_PROBLEMS]:
        console.print(f"  problem: {line}", highlight=False, soft_wrap=True)
    if len(problems) > SHOWN_PROBLEMS:
        console.print(f"  ... and {len(problems) - SHOWN_PROBLEMS} more problems (--json)")


@app.command("review")
@handle_errors
def review(
    review_id: int | None = typer.Argument(None, help="The held import to decide."),
    merge: bool = typer.Option(False, "--merge", help="It is the candidate patient."),
    create: bool = typer.Option(False, "--create", help="It is a different, new patient."),
    reject: bool = typer.Option(False, "--reject", help="Import none of it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the imports held for review, or decide one (--merge, --create or --reject)."""
    from tools.interop.review import Decision, decide

    chosen = [d for d, on in ((Decision.MERGE, merge), (Decision.CREATE, create)) if on]
    chosen += [Decision.REJECT] if reject else []
    if len(chosen) > 1:
        raise InvalidInput("choose one of --merge, --create and --reject")
    if chosen and review_id is None:
        raise InvalidInput("name the review to decide (its id, from `steve import review`)")
    if not chosen:
        _list_reviews(review_id=review_id, as_json=as_json)
        return
    eng = engine()
    try:
        summary = decide(
            engine=eng,
            review_id=review_id or 0,
            decision=chosen[0],
            actor=ACTOR,
            data_dir=settings().data_dir,
        )
    finally:
        eng.dispose()
    if as_json:
        emit_json({"review": review_id, "decision": chosen[0].value, "import": summary})
        return
    console.print(f"import review {review_id}: {chosen[0].value}d", highlight=False)
    if summary:
        _print_summary(summary, problems=[])


def _list_reviews(*, review_id: int | None, as_json: bool) -> None:
    from db.models import Patient
    from tools.interop.matching import open_reviews
    from tools.interop.review import get_review

    with transaction() as session:
        reviews = (
            [get_review(session=session, review_id=review_id)]
            if review_id is not None
            else open_reviews(session=session)
        )
        rows = []
        for held in reviews:
            candidate = (
                session.get(Patient, held.candidate_patient_id)
                if held.candidate_patient_id
                else None
            )
            rows.append(
                {
                    "id": held.id,
                    "status": held.status,
                    "format": held.format,
                    "source": held.source_system,
                    "record": held.source_ref,
                    "candidate_patient_id": held.candidate_patient_id,
                    "candidate": candidate.full_name if candidate else None,
                    "reason": held.reason,
                    "resources": _held_count(held.payload),
                    "held_at": held.created_at.isoformat(timespec="minutes"),
                }
            )
    if as_json:
        emit_json(rows)
        return
    if not rows:
        console.print("no imports are waiting for review")
        return
    console.print(
        table(
            "Imports held for review",
            ["id", "status", "source", "record", "candidate", "reason", "resources", "held"],
            [
                [
                    r["id"],
                    r["status"],
                    r["source"],
                    r["record"],
                    f"{r['candidate']} (patient {r['candidate_patient_id']})"
                    if r["candidate"]
                    else "-",
                    r["reason"],
                    r["resources"],
                    r["held_at"],
                ]
                for r in rows
            ],
        )
    )


def _held_count(payload: str) -> int:
    try:
        held = json.loads(payload)
    except ValueError:
        return 0
    if isinstance(held, dict):
        return len(held.get("entry") or [])
    return 0
