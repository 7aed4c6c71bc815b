"""Resources grouped by the Patient they belong to, so each patient can be written at once.

A resource belongs to the Patient its compartment field points at (the FHIR Patient
compartment, simplified to the fields the practice's resources use: `subject`, `patient`,
`beneficiary`, `participant.actor` of an Appointment and `for` of a Task). A Patient belongs
to itself.
Resources that point at no patient (practitioners, organisations, medications) are shared;
those whose patient reference resolves to nothing read are unplaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PATIENT_FIELDS = ("subject", "patient", "beneficiary")
PATIENT_FIELDS_BY_TYPE = {"Appointment": ("participant.actor",), "Task": ("for",)}

_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Link:
    """One reference in a read resource: its field path, its form, and its target's key."""

    source: str
    path: str
    form: str
    target: str | None
    target_type_hint: str | None = None  # "Patient" when the reference text or type says so


@dataclass
class PatientGroups:
    """Resource keys by patient key, plus the shared and the unplaced ones."""

    patients: dict[str, list[str]] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)


def group_by_patient(
    *, keys: Iterable[str], types: Mapping[str, str], links: Iterable[Link]
) -> PatientGroups:
    """Each key placed under its patient, in the order the keys come."""
    by_source: dict[str, list[Link]] = {}
    for link in links:
        by_source.setdefault(link.source, []).append(link)
    groups = PatientGroups()
    for key in keys:
        resource_type = types[key]
        if resource_type == "Patient":
            groups.patients.setdefault(key, []).append(key)
            continue
        fields = PATIENT_FIELDS_BY_TYPE.get(resource_type, PATIENT_FIELDS)
        patient, dangling = _patient_of(links=by_source.get(key, []), fields=fields, types=types)
        if patient is not None:
            groups.patients.setdefault(patient, []).append(key)
        elif dangling:
            groups.unplaced.append(key)
        else:
            groups.shared.append(key)
    return groups


def _patient_of(
    *, links: list[Link], fields: tuple[str, ...], types: Mapping[str, str]
) -> tuple[str | None, bool]:
    dangling = False
    for link in links:
        if _INDEX.sub("", link.path) not in fields:
            continue
        if link.target is not None and types.get(link.target) == "Patient":
            return link.target, False
        if link.target is None and link.target_type_hint == "Patient":
            dangling = True
    return None, dangling
