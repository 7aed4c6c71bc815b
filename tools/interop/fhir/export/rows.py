"""A batch of patients' rows, read in one query per table (never one per patient).

`load_batch` reads every table the export writes for up to a few hundred patients at once and
hands back each patient's rows; `origins` are the import records (RecordSource) the rows came
from, so an exported resource can carry its original identifier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from db.models import (
    Appointment,
    CareMessage,
    CareProgramme,
    ClinicalNote,
    GeneratedDocument,
    IntakeForm,
    LabOrder,
    LabResult,
    Patient,
    PatientAllergy,
    PatientCondition,
    PatientDocument,
    PatientIdentifier,
    PatientMedication,
    PatientObservation,
    ProgrammeElement,
    RecordSource,
    Referral,
    SupplementItem,
    Task,
)

# (source system, resource id) pairs, by (table, row id).
Origins = dict[tuple[str, int], list[tuple[str, str]]]


@dataclass
class PatientRows:
    """Everything the export writes about one patient."""

    patient: Patient
    identifiers: list[PatientIdentifier] = field(default_factory=list)
    conditions: list[PatientCondition] = field(default_factory=list)
    allergies: list[PatientAllergy] = field(default_factory=list)
    medications: list[PatientMedication] = field(default_factory=list)
    supplements: list[SupplementItem] = field(default_factory=list)
    lab_orders: list[LabOrder] = field(default_factory=list)
    lab_results: list[LabResult] = field(default_factory=list)
    observations: list[PatientObservation] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    programmes: list[CareProgramme] = field(default_factory=list)
    elements: list[ProgrammeElement] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    messages: list[CareMessage] = field(default_factory=list)
    notes: list[ClinicalNote] = field(default_factory=list)
    generated: list[GeneratedDocument] = field(default_factory=list)
    documents: list[PatientDocument] = field(default_factory=list)
    intake_forms: list[IntakeForm] = field(default_factory=list)


# PatientRows field -> the table read into it (each has patient_id), in id order.
_TABLES: dict[str, type[SQLModel]] = {
    "identifiers": PatientIdentifier,
    "conditions": PatientCondition,
    "allergies": PatientAllergy,
    "medications": PatientMedication,
    "supplements": SupplementItem,
    "lab_orders": LabOrder,
    "lab_results": LabResult,
    "observations": PatientObservation,
    "appointments": Appointment,
    "programmes": CareProgramme,
    "elements": ProgrammeElement,
    "referrals": Referral,
    "tasks": Task,
    "messages": CareMessage,
    "notes": ClinicalNote,
    "generated": GeneratedDocument,
    "documents": PatientDocument,
    "intake_forms": IntakeForm,
}


def load_batch(*, session: Session, patient_ids: Sequence[int]) -> list[PatientRows]:
    """The rows of these patients, in the order of `patient_ids`."""
    patients = session.exec(select(Patient).where(col(Patient.id).in_(patient_ids))).all()
    by_id = {p.id: PatientRows(patient=p) for p in patients}
    for name, model in _TABLES.items():
        table: Any = model
        stmt = select(model).where(col(table.patient_id).in_(patient_ids)).order_by(col(table.id))
        rows: list[Any] = list(session.exec(stmt).all())
        for row in rows:
            getattr(by_id[row.patient_id], name).append(row)
    return [by_id[pid] for pid in patient_ids if pid in by_id]


def load_origins(*, session: Session, patient_ids: Sequence[int] | None) -> Origins:
    """The import records behind rows: of these patients, or (None) rows of no patient."""
    stmt = select(RecordSource).where(RecordSource.part == "")
    if patient_ids is None:
        stmt = stmt.where(col(RecordSource.patient_id).is_(None))
    else:
        stmt = stmt.where(col(RecordSource.patient_id).in_(patient_ids))
    found: Origins = defaultdict(list)
    for source in session.exec(stmt.order_by(col(RecordSource.id))).all():
        found[(source.table_name, source.row_id)].append((source.source_system, source.resource_id))
    return dict(found)
