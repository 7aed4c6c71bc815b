"""`steve import hl7` and `steve import labs`: lab results from laboratories.

HL7 v2 ORU^R01 files (one or many messages, segments ended by \\r or \\n, or MLLP-framed
captures) and a lab's CSV export read through its mapping file. One transaction per HL7
message and per patient of a CSV file; a line per message (control id, outcome, counts) or
per problem (row and column), never a patient value; a summary; exit 1 when anything was
rejected or left out. The HL7 library is imported when a command runs, not for `--help`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer

from app.cli.common import JSON_OPTION, console, emit_json, engine, fail, handle_errors, settings
from db.engine import session_scope, utcnow
from db.models import ImportFormat, ImportRun

FILES = typer.Argument(..., help="HL7 v2 files (ORU^R01; plain or MLLP-framed).")
SOURCE_OPTION = typer.Option(
    None, "--source", help="Source system of the records (default: the sending facility, MSH-4)."
)
DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Report what would change; write nothing.")


def _payloads(path: Path) -> list[bytes]:
    """The file's bytes, or the payload of each MLLP frame when it is a capture of frames."""
    from tools.interop.hl7.mllp import START_BLOCK, MllpDecoder

    try:
        data = path.read_bytes()
    except OSError:
        fail(f"{path}: cannot be read", 2)
    if START_BLOCK not in data:
        return [data]
    return MllpDecoder().feed(data) or [b""]


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items()) if n)


def _record_run(
    *, format: ImportFormat, source: str, counts: dict[str, Any], problems: int
) -> None:
    eng = engine()
    try:
        with session_scope(eng) as session:
            session.add(
                ImportRun(
                    format=format,
                    source_system=source[:300],
                    finished_at=utcnow(),
                    counts=json.dumps(counts, sort_keys=True),
                    problems=problems,
                )
            )
    finally:
        eng.dispose()


@handle_errors
def import_hl7(
    files: list[Path] = FILES,
    source: str | None = SOURCE_OPTION,
    lab: str | None = typer.Option(
        None, "--lab", help="The laboratory's name on new orders (default: the source)."
    ),
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import lab results from HL7 v2 ORU^R01 files: one line per message, then a summary.

    A patient is matched by a PID-3 identifier (its assigning authority as the system); a
    name and birth date alone, or nobody on file, holds the message in the review queue
    (answered AA, 'held for review'). A malformed segment (AE) or a message that is not an
    ORU^R01 (AR) stores nothing of that message and makes the exit code 1.
    """
    from schedules.lab_intake import LabIntake, take_messages

    s = settings()
    eng = engine()
    intake = LabIntake(engine=eng, zone=s.zone, source=source, lab=lab)
    now = utcnow()
    lines: list[dict[str, Any]] = []
    totals: Counter[str] = Counter()  # messages by outcome
    counts: Counter[str] = Counter()  # rows written, held, ...
    try:
        for path in files:
            for payload in _payloads(path):
                for imported in take_messages(
                    intake=intake, data=payload, now=now, dry_run=dry_run
                ):
                    totals[imported.outcome.value] += 1
                    counts.update(imported.counts)
                    lines.append(
                        {
                            "file": path.name,
                            "message": imported.index,
                            "control_id": imported.control_id,
                            "outcome": imported.outcome.value,
                            "ack": imported.ack_code,
                            "counts": imported.counts,
                            "problems": [str(p) for p in imported.problems],
                        }
                    )
    finally:
        eng.dispose()
    failed = totals["error"] + totals["rejected"]
    if not dry_run:
        _record_run(
            format=ImportFormat.HL7,
            source=source or "hl7 files",
            counts={"patients": dict(totals), **dict(counts)},
            problems=failed,
        )
    if as_json:
        emit_json(
            {"messages": lines, "totals": dict(totals), "counts": dict(counts), "dry_run": dry_run}
        )
    else:
        for line in lines:
            detail = "; ".join(line["problems"]) or _counts_text(line["counts"])
            console.print(
                f"{line['file']} #{line['message']} {line['control_id'] or '(no control id)'}: "
                f"{line['outcome']} ({line['ack']}){': ' + detail if detail else ''}",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
        summary = ", ".join(
            f"{totals[o]} {o}" for o in ("stored", "held", "error", "rejected") if totals[o]
        )
        console.print(
            f"{len(lines)} message(s): {summary or 'none'}"
            + (" (dry run: nothing written)" if dry_run else ""),
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(1)


@handle_errors
def import_labs(
    file: Path = typer.Argument(..., help="The lab's CSV export."),
    lab: str | None = typer.Option(
        None, "--lab", help="The laboratory's name (default: the mapping's lab.name)."
    ),
    mapping_file: Path = typer.Option(
        ..., "--map", help="The lab's mapping file (.toml or .json) naming its columns."
    ),
    source: str | None = typer.Option(
        None, "--source", help="Source system of the records (default: the mapping's lab.source)."
    ),
    dry_run: bool = DRY_RUN_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import lab results from a laboratory's CSV file, read through its mapping file.

    Every row is checked; a bad row is reported by row number and column, and its patient's
    rows are left out whole (exit code 1). Each patient's rows are one transaction; patients
    are matched and held for review as in `steve import hl7`.
    """
    from schedules.lab_intake import LabIntake, take_csv
    from tools.interop.lab_csv.mapping import MappingError, load_mapping

    try:
        mapping = load_mapping(mapping_file)
    except MappingError as exc:
        fail(str(exc), 2)
    if not file.is_file():
        fail(f"{file}: no such file", 2)
    s = settings()
    eng = engine()
    try:
        taken = take_csv(
            intake=LabIntake(engine=eng, zone=s.zone, source=source, lab=lab),
            path=file,
            mapping=mapping,
            now=utcnow(),
            dry_run=dry_run,
        )
    finally:
        eng.dispose()
    totals: Counter[str] = Counter()  # patients by outcome
    counts: Counter[str] = Counter()  # rows written, held, ...
    for patient in taken.patients:
        totals[patient.outcome] += 1
        counts.update(patient.counts)
    totals["left out"] = len(taken.skipped)
    failed = len(taken.problems) + totals["error"]
    if not dry_run:
        _record_run(
            format=ImportFormat.CSV,
            source=source or mapping.source or mapping.lab_name or file.stem,
            counts={"patients": dict(totals), **dict(counts)},
            problems=failed,
        )
    if as_json:
        emit_json(
            {
                "rows": taken.rows,
                "problems": [str(p) for p in taken.problems],
                "patients": [
                    {
                        "rows": p.where,
                        "outcome": p.outcome,
                        "counts": p.counts,
                        "problem": p.problem,
                    }
                    for p in taken.patients
                ],
                "left_out": taken.skipped,
                "totals": dict(totals),
                "counts": dict(counts),
                "dry_run": dry_run,
            }
        )
    else:
        for problem in taken.problems:
            console.print(f"{file.name}: {problem}", highlight=False, markup=False)
        for patient in taken.patients:
            detail = patient.problem or _counts_text(patient.counts)
            console.print(
                f"{file.name} {patient.where}: {patient.outcome}{': ' + detail if detail else ''}",
                highlight=False,
                soft_wrap=True,
                markup=False,
            )
        for where in taken.skipped:
            console.print(
                f"{file.name} {where}: left out (a row has a problem)",
                highlight=False,
                soft_wrap=True,
            )
        console.print(
            f"{taken.rows} row(s), {len(taken.patients) + len(taken.skipped)} patient(s): "
            f"{totals['stored']} stored, {totals['held']} held for review, "
            f"{totals['error']} error(s), {len(taken.skipped)} left out"
            + (" (dry run: nothing written)" if dry_run else ""),
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(1)
