"""Programme views of two practices made comparable, for the FHIR round-trip test.

A practice exported and imported into an empty database has the same records under new row
ids, so `views` keys every patient by name and birth date and `normalise` leaves out what
only says where a row sits in one database: row ids (`id`, and every `*_id` that points at a
row of the patient's own records), and the times a row was written there (`created_at`,
`updated_at`, `generated_at`). A clinician is named rather than numbered: every `*_id` that
points at a practitioner (a foreign key to `practitioner.id`) becomes the practitioner's name.
Lists are sorted, so rows that tie on the view's order (two notes written the same minute)
compare equal whatever their ids.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from db.models import Patient, Practitioner
from tools.programme import programme_view

WRITE_TIMES = frozenset({"created_at", "updated_at", "generated_at"})
DERIVED = frozenset({"name_key"})  # the patient's search key, computed from the name


def practitioner_columns() -> frozenset[str]:
    """Every column name that is a foreign key to a practitioner, in any table."""
    return frozenset(
        column.name
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        for key in column.foreign_keys
        if key.target_fullname == "practitioner.id"
    )


def normalise(value: Any, *, names: dict[int, str], practitioners: frozenset[str]) -> Any:
    """`value` (a programme view's JSON) without row ids and write times, clinicians named."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in practitioners:
                out[key] = names.get(item) if item is not None else None
            elif key == "id" or key.endswith("_id") or key in WRITE_TIMES | DERIVED:
                continue
            else:
                out[key] = normalise(item, names=names, practitioners=practitioners)
        return out
    if isinstance(value, list):
        items = [normalise(i, names=names, practitioners=practitioners) for i in value]
        return sorted(items, key=lambda i: json.dumps(i, sort_keys=True, default=str))
    return value


PatientKey = tuple[str, str, str]


def views(engine: Engine, *, now: datetime) -> dict[PatientKey, dict[str, Any]]:
    """Every patient's normalised programme view at `now`, by (given, family, birth date)."""
    practitioners = practitioner_columns()
    with Session(engine) as session:
        names = {p.id: p.name for p in session.exec(select(Practitioner)) if p.id is not None}
        found = {}
        for patient in session.exec(select(Patient)).all():
            assert patient.id is not None
            view = programme_view(session=session, patient_id=patient.id, now=now).to_dict()
            key = (patient.given_name, patient.family_name, str(patient.date_of_birth))
            assert key not in found, "two patients share a name and birth date"
            found[key] = normalise(view, names=names, practitioners=practitioners)
        session.rollback()
    return found


def differences(
    before: dict[PatientKey, dict[str, Any]], after: dict[PatientKey, dict[str, Any]]
) -> dict[str, int]:
    """How many patients differ in each section (and how many are missing or extra)."""
    counts: dict[str, int] = {}
    for key in before.keys() | after.keys():
        if key not in after or key not in before:
            side = "missing after" if key not in after else "extra after"
            counts[side] = counts.get(side, 0) + 1
            continue
        for section in before[key].keys() | after[key].keys():
            if before[key].get(section) != after[key].get(section):
                counts[section] = counts.get(section, 0) + 1
    return counts
