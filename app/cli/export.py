"""`steve export`: the practice's records written out in a standard format (FHIR R4).

Exporting copies every record of the patients named (or of the whole practice) out of Steve,
so only a user whose role may move records in and out (`tools.access.Category.IMPORT`: the
admin role) may do it (`--by`, a user name or id). A refusal is audited (action `denied`) and
writes nothing else; an export leaves one audit row per patient
(action `export`, entity `fhir_export`, no values).
"""

from __future__ import annotations

from pathlib import Path

import typer
from sqlmodel import Session

from app.cli.common import JSON_OPTION, console, emit_json, handle_errors, settings, transaction
from tools.access import AccessDenied, Category, require
from tools.errors import InvalidInput

app = typer.Typer(help="Write the practice's records out as FHIR R4.", no_args_is_help=True)
ENTITY = "fhir_export"


def _exporter(*, session: Session, who: str) -> str:
    """The audit label of the user `who`, refused (audited) unless their role may move
    records in and out of the practice (`Category.IMPORT`: admins)."""
    from tools.users import actor_of, find_user

    user = find_user(session=session, username_or_id=who)
    if not user.active:
        raise AccessDenied(f"user {user.id} is not active")
    actor = actor_of(session=session, user=user)
    require(session=session, actor=actor, needs={Category.IMPORT}, entity=ENTITY, origin="cli")
    return actor.label


def _patient_ids(patients: list[str]) -> list[int]:
    ids = []
    for text in patients:
        if not text.strip().isdigit() or int(text) < 1:
            raise InvalidInput(f"a patient is named by its id (a positive number), not {text!r}")
        ids.append(int(text))
    return ids


@app.command("fhir")
@handle_errors
def fhir(
    patients: list[str] = typer.Argument(None, help="Patient ids; default every patient."),
    out: Path = typer.Option(..., "--out", help="The folder to write (created; must be empty)."),
    by: str = typer.Option(..., "--by", help="Who exports: an admin user (name or id)."),
    ndjson: bool = typer.Option(
        False, "--ndjson", help="Bulk Data NDJSON, one file per resource type, not Bundles."
    ),
    force: bool = typer.Option(False, "--force", help="Replace a folder that is not empty."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Export patients as FHIR R4: a transaction Bundle per patient plus practice.json.

    Every resource is validated with the FHIR models before it is written; the folder appears
    only when the export is complete.
    """
    from tools.interop.fhir.export.run import export_fhir

    ids = _patient_ids(patients or [])
    target = out.expanduser().absolute()
    with transaction() as session:
        actor = _exporter(session=session, who=by)
        summary = export_fhir(
            session=session,
            out=target,
            patient_ids=ids or None,
            ndjson=ndjson,
            force=force,
            actor=actor,
            documents_dir=settings().data_dir / "documents",
        )
    row = {
        "out": str(summary.out),
        "format": "ndjson" if ndjson else "bundles",
        "patients": summary.patients,
        "files": summary.files,
        "resources": dict(sorted(summary.resources.items())),
    }
    if as_json:
        emit_json(row)
        return
    total = sum(summary.resources.values())
    console.print(
        f"Exported {summary.patients} patient(s), {total} resources, "
        f"in {summary.files} file(s) to {summary.out}",
        highlight=False,
    )
