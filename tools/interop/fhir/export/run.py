"""`export_fhir`: the practice (or some patients) written out as FHIR R4, streamed in batches.

Patients are read `batch_size` at a time (one query per table per batch), turned into
resources, each validated with the R4B models, and written at once; the practice is never
held in memory whole. Each exported patient leaves an audit row (action `export`, entity
`fhir_export`: no values). The caller commits those rows once the files are in place.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from db.models import Patient
from tools import audit
from tools.errors import NotFound, SteveError
from tools.interop.fhir.conventions import practice_urn
from tools.interop.fhir.export.assemble import patient_resources, practice_resources
from tools.interop.fhir.export.output import (
    PRACTICE_FILE,
    NdjsonFiles,
    check_target,
    staged,
    transaction,
    write_json,
)
from tools.interop.fhir.export.practice import practice_id
from tools.interop.fhir.export.rows import load_batch, load_origins
from tools.interop.fhir.validation import validate_resource

BATCH_SIZE = 200


class ExportInvalid(SteveError):
    """A resource Steve built failed FHIR validation (a bug: names the type, id and field)."""


@dataclass
class ExportSummary:
    out: Path
    patients: int = 0
    resources: Counter[str] = field(default_factory=Counter)
    files: int = 0


def _valid(resource: dict[str, Any], source: str) -> dict[str, Any]:
    resource["meta"] = {"source": source}
    where = f"{resource.get('resourceType')}/{resource.get('id')}"
    model, problems = validate_resource(raw=resource, file="export", where=where)
    if model is None:
        first = problems[0]
        raise ExportInvalid(f"{where} is not valid FHIR: {first.field or ''} {first.message}")
    return resource


def selected_patients(*, session: Session, patient_ids: Sequence[int] | None) -> list[int]:
    """The ids to export, in order: those given (each must exist), else every patient."""
    if not patient_ids:
        return list(session.exec(select(Patient.id).order_by(col(Patient.id))).all())  # type: ignore[arg-type]
    wanted = list(dict.fromkeys(patient_ids))
    found = set(session.exec(select(Patient.id).where(col(Patient.id).in_(wanted))).all())
    for pid in wanted:
        if pid not in found:
            raise NotFound("patient", pid)
    return wanted


def export_fhir(
    *,
    session: Session,
    out: Path,
    patient_ids: Sequence[int] | None = None,
    ndjson: bool = False,
    force: bool = False,
    actor: str = "system",
    documents_dir: Path | None = None,
    batch_size: int = BATCH_SIZE,
) -> ExportSummary:
    """Write the patients (default: all) and the practice's practitioners under `out`."""
    check_target(out=out, force=force)
    ids = selected_patients(session=session, patient_ids=patient_ids)
    summary = ExportSummary(out=out)
    practice = practice_id(session=session)
    with staged(out=out) as folder:
        files = NdjsonFiles(folder) if ndjson else None
        try:
            shared = _counted(
                summary,
                practice_resources(session=session, origins=_shared(session)),
                practice_urn(practice),
            )
            if files is not None:
                for resource in shared:
                    files.write(resource)
            else:
                write_json(folder / PRACTICE_FILE, transaction(shared))
            for start in range(0, len(ids), batch_size):
                batch = ids[start : start + batch_size]
                _export_batch(session, batch, folder, files, summary, documents_dir, practice)
                _audit(session, batch, actor)
        finally:
            if files is not None:
                summary.files = len(files.handles)
                files.close()
        if files is None:
            summary.files = len(ids) + 1
    return summary


def _shared(session: Session) -> Any:
    return load_origins(session=session, patient_ids=None)


def _counted(
    summary: ExportSummary, resources: Iterable[dict[str, Any]], source: str
) -> list[dict[str, Any]]:
    found = [_valid(r, source) for r in resources]
    summary.resources.update(r["resourceType"] for r in found)
    return found


def _export_batch(
    session: Session,
    batch: Sequence[int],
    folder: Path,
    files: NdjsonFiles | None,
    summary: ExportSummary,
    documents_dir: Path | None,
    practice: str,
) -> None:
    origins = load_origins(session=session, patient_ids=batch)
    for rows in load_batch(session=session, patient_ids=batch):
        built = patient_resources(
            rows, practice=practice, origins=origins, documents_dir=documents_dir
        )
        resources = _counted(summary, built, practice_urn(practice))
        summary.patients += 1
        if files is not None:
            for resource in resources:
                files.write(resource)
        else:
            write_json(folder / f"{resources[0]['id']}.json", transaction(resources))


def _audit(session: Session, batch: Sequence[int], actor: str) -> None:
    """One audit row per exported patient, flushed before the batch's rows are let go."""
    for pid in batch:
        audit.record(
            session=session, actor=actor, action="export", entity="fhir_export", patient_id=pid
        )
    session.flush()
    session.expunge_all()
