"""Patients, practitioners (with their PractitionerRole) and the organisations they work for.

The patient's `generalPractitioner` lists the primary care provider outside the practice and
the in-house primary physician; the latter is also named by the extension
`urn:steve:extension:primary-physician`, so an importer can tell the two apart. An
organisation is a name on a practitioner row, so its id is derived from the name
(`organization-<12 hex of sha1>`): the same name is the same Organization in every export.
"""

from __future__ import annotations

import hashlib
from typing import Any

from db.models import Patient, PatientIdentifier, Practitioner
from tools.interop.fhir.conventions import (
    AFFILIATION_SYSTEM,
    DISCIPLINE_SYSTEM,
    GENDER,
    IDENTIFIER_TYPE,
    PRIMARY_PHYSICIAN_EXTENSION,
    identifier_system,
    patient_identifier,
    resource_id,
)
from tools.interop.fhir.export.elements import (
    compact,
    extensions,
    identifiers,
    practitioner_ref,
    steve_code,
)

# PatientIdentifier.kind values that are HL7 v2 identifier type codes (table 0203).
V2_IDENTIFIER_TYPES = frozenset({"MR", "SS", "PI", "PT", "DL", "PPN", "NH", "NI", "SB", "MA"})


def organisation_id(name: str) -> str:
    return f"organization-{hashlib.sha1(name.strip().encode('utf-8')).hexdigest()[:12]}"


def _telecom(phone: str | None, email: str | None) -> list[dict[str, str]]:
    found = []
    if phone:
        found.append({"system": "phone", "value": phone})
    if email:
        found.append({"system": "email", "value": email})
    return found


def _identifier(row: PatientIdentifier) -> dict[str, Any]:
    out: dict[str, Any] = {"system": row.system, "value": row.value}
    if row.kind:
        kind = row.kind.strip()
        out["type"] = (
            {"coding": [{"system": IDENTIFIER_TYPE, "code": kind}], "text": kind}
            if kind in V2_IDENTIFIER_TYPES
            else {"text": kind}
        )
    return out


def patient_resource(
    patient: Patient,
    *,
    practice: str,
    shared_ids: list[PatientIdentifier],
    origins: list[tuple[str, str]],
) -> dict[str, Any]:
    """The Patient; its Steve identifier is scoped to the practice (`practice` is its id)."""
    assert patient.id is not None
    found = [patient_identifier(practice, patient.id)]
    seen = {(i["system"], i["value"]) for i in found}
    for row in shared_ids:
        found.append(_identifier(row))
        seen.add((row.system, row.value))
    found += [{"system": s, "value": v} for s, v in origins if (s, v) not in seen]
    general = [practitioner_ref(patient.primary_care_provider_id)]
    if patient.primary_physician_id != patient.primary_care_provider_id:
        general.append(practitioner_ref(patient.primary_physician_id))
    deceased: dict[str, Any] = {}
    if patient.deceased_on is not None:
        deceased["deceasedDateTime"] = patient.deceased_on.isoformat()
    elif patient.deceased:
        deceased["deceasedBoolean"] = True
    physician = practitioner_ref(patient.primary_physician_id)
    return compact(
        {
            "resourceType": "Patient",
            "id": resource_id("patient", patient.id),
            "extension": [
                *(
                    [{"url": PRIMARY_PHYSICIAN_EXTENSION, "valueReference": physician}]
                    if physician
                    else []
                ),
                *extensions(created_at=patient.created_at),
            ],
            "identifier": found,
            "active": patient.status == "active",
            "name": [
                {
                    "use": "official",
                    "family": patient.family_name,
                    "given": [patient.given_name],
                    "text": patient.full_name,
                }
            ],
            "telecom": _telecom(patient.phone, patient.email),
            "gender": GENDER.get(str(patient.sex), "unknown"),
            "birthDate": patient.date_of_birth.isoformat(),
            **deceased,
            "address": [{"text": patient.address}] if patient.address else [],
            "generalPractitioner": [g for g in general if g],
        }
    )


def practitioner_resources(
    person: Practitioner, *, origins: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The Practitioner and its PractitionerRole (discipline, specialty, organisation)."""
    assert person.id is not None
    name: dict[str, Any] = {"text": person.name}
    if person.title:
        name["prefix"] = [person.title]
    practitioner = {
        "resourceType": "Practitioner",
        "id": resource_id("practitioner", person.id),
        "extension": extensions(
            affiliation=str(person.affiliation),
            status=str(person.status),
            created_at=person.created_at,
        ),
        "identifier": identifiers("practitioner", person.id, origins),
        "active": person.status != "inactive",
        "name": [name],
        "telecom": _telecom(person.phone, person.email),
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": resource_id("practitioner_role", person.id),
        "identifier": [{"system": identifier_system("practitioner_role"), "value": str(person.id)}],
        "active": person.status == "active",
        "practitioner": practitioner_ref(person.id),
        "organization": (
            {"reference": f"Organization/{organisation_id(person.organisation)}"}
            if person.organisation
            else None
        ),
        "code": [
            steve_code(DISCIPLINE_SYSTEM, str(person.discipline)),
            steve_code(AFFILIATION_SYSTEM, str(person.affiliation)),
        ],
        "specialty": [{"text": person.specialty}] if person.specialty else [],
        "telecom": _telecom(person.phone, person.email),
    }
    return [compact(practitioner), compact(role)]


def organisation_resource(name: str) -> dict[str, Any]:
    return compact(
        {
            "resourceType": "Organization",
            "id": organisation_id(name),
            "identifier": [{"system": identifier_system("organisation"), "value": name.strip()}],
            "active": True,
            "name": name,
        }
    )
