"""The small JSON pieces every exported resource is made of: references, codings, extensions.

Resources are built as plain JSON dicts (validated afterwards with the R4B models), so the
builders here return dicts and leave out what is empty: FHIR forbids empty elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from db.engine import as_utc
from tools.interop.fhir.conventions import (
    code_system_uri,
    extension_url,
    resource_id,
    steve_identifier,
)

# Which FHIR type each exported Steve table becomes (its main resource).
TYPES: dict[str, str] = {
    "patient": "Patient",
    "practitioner": "Practitioner",
    "patient_condition": "Condition",
    "patient_allergy": "AllergyIntolerance",
    "patient_medication": "MedicationStatement",
    "supplement_item": "MedicationStatement",
    "lab_order": "ServiceRequest",
    "lab_result": "Observation",
    "patient_observation": "Observation",
    "appointment": "Appointment",
    "care_programme": "CarePlan",
    "referral": "ServiceRequest",
    "task": "Task",
    "care_message": "Communication",
    "clinical_note": "DocumentReference",
    "generated_document": "DocumentReference",
    "patient_document": "DocumentReference",
    "intake_form": "QuestionnaireResponse",
}


def ref(table: str, row_id: int, *, resource_type: str | None = None) -> dict[str, str]:
    """A relative reference to the resource a Steve row became: `Patient/patient-12`."""
    kind = resource_type or TYPES[table]
    return {"reference": f"{kind}/{resource_id(table, row_id)}"}


def practitioner_ref(row_id: int | None) -> dict[str, str] | None:
    return None if row_id is None else ref("practitioner", row_id)


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(
    text: str | None, *, system: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """A CodeableConcept: the stored code (system name mapped to its URI) and the text."""
    out: dict[str, Any] = {}
    if code and system:
        out["coding"] = [coding(code_system_uri(system), code)]
    if text:
        out["text"] = text
    return out


def steve_code(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of one code from a Steve vocabulary, its words as display and text
    ("nutritional_therapy" -> "Nutritional therapy") for readers that go by words."""
    words = text or code.replace("_", " ").replace("-", " ").capitalize()
    return {"coding": [coding(system, code, words)], "text": words}


def extension(field: str, value: Any) -> dict[str, Any] | None:
    """A Steve extension, typed by the Python value (None when there is no value)."""
    if value is None or value == "":
        return None
    url = extension_url(field)
    if isinstance(value, bool):
        return {"url": url, "valueBoolean": value}
    if isinstance(value, int):
        return {"url": url, "valueInteger": value}
    if isinstance(value, float):
        return {"url": url, "valueDecimal": value}
    if isinstance(value, datetime):
        return {"url": url, "valueDateTime": instant(value)}
    if isinstance(value, date):
        return {"url": url, "valueDate": value.isoformat()}
    if isinstance(value, Mapping) and "reference" in value:
        return {"url": url, "valueReference": dict(value)}
    return {"url": url, "valueString": str(value)}


def extensions(**fields: Any) -> list[dict[str, Any]]:
    """Steve extensions for the fields that have a value, in the order given."""
    return [e for name, value in fields.items() if (e := extension(name.replace("_", "-"), value))]


def instant(value: datetime) -> str:
    """A FHIR dateTime/instant with its zone (naive values are UTC, as Steve stores them)."""
    return as_utc(value).isoformat()


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def period(start: date | datetime | None, end: date | datetime | None) -> dict[str, str] | None:
    out = {}
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, datetime):
            out[name] = instant(value)
        elif isinstance(value, date):
            out[name] = value.isoformat()
    return out or None


def identifiers(
    table: str, row_id: int, origins: Iterable[tuple[str, str]] = ()
) -> list[dict[str, str]]:
    """The Steve identifier of a row, then the identifiers of the records it was imported from."""
    found = [steve_identifier(table, row_id)]
    found += [{"system": system, "value": value} for system, value in origins]
    return found


def compact(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without empty elements (None, "", [], {}), recursively."""
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if isinstance(value, dict):
            value = compact(value)
        elif isinstance(value, list):
            value = [compact(v) if isinstance(v, dict) else v for v in value]
            value = [v for v in value if v not in (None, "", {}, [])]
        if value in (None, "", {}, []):
            continue
        out[key] = value
    return out
