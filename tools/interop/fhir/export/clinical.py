"""Conditions, allergies, medications, supplements and vital signs of one patient.

Medications and supplements are both `MedicationStatement`s; a supplement carries the
dietary-supplement category (see `tools.interop.fhir.conventions`). Dosage: `dosage[0].text`
is the dose and frequency as a person reads them, `dosage[0].timing.code.text` the frequency
alone and the extension `urn:steve:extension:dose` the dose alone.
"""

from __future__ import annotations

from typing import Any

from db.models import (
    PatientAllergy,
    PatientCondition,
    PatientMedication,
    PatientObservation,
    SupplementItem,
)
from tools.interop.fhir.conventions import (
    ALLERGY_CLINICAL,
    CONDITION_CLINICAL,
    OBSERVATION_CATEGORY,
    SUPPLEMENT_CATEGORY,
    SUPPLEMENT_STATUS,
    UCUM,
    resource_id,
)
from tools.interop.fhir.export.elements import (
    coding,
    compact,
    concept,
    day,
    extensions,
    identifiers,
    instant,
    period,
    practitioner_ref,
    ref,
)

Origins = list[tuple[str, str]]
ALLERGY_SEVERITIES = frozenset({"mild", "moderate", "severe"})


def condition_resource(row: PatientCondition, *, origins: Origins) -> dict[str, Any]:
    assert row.id is not None
    return compact(
        {
            "resourceType": "Condition",
            "id": resource_id("patient_condition", row.id),
            "identifier": identifiers("patient_condition", row.id, origins),
            "clinicalStatus": {"coding": [coding(CONDITION_CLINICAL, str(row.status))]},
            "code": concept(row.name, system=row.code_system, code=row.code),
            "subject": ref("patient", row.patient_id),
            "onsetDateTime": day(row.onset_on),
        }
    )


def allergy_resource(row: PatientAllergy, *, origins: Origins) -> dict[str, Any]:
    assert row.id is not None
    severity = (row.severity or "").strip().lower()
    reaction: dict[str, Any] = {}
    if row.reaction:
        reaction = {"manifestation": [{"text": row.reaction}]}
        if severity in ALLERGY_SEVERITIES:
            reaction["severity"] = severity
    return compact(
        {
            "resourceType": "AllergyIntolerance",
            "id": resource_id("patient_allergy", row.id),
            "extension": extensions(severity=row.severity),
            "identifier": identifiers("patient_allergy", row.id, origins),
            "clinicalStatus": {"coding": [coding(ALLERGY_CLINICAL, "active")]},
            "code": concept(row.substance, system=row.code_system, code=row.code),
            "patient": ref("patient", row.patient_id),
            "reaction": [reaction] if reaction else [],
        }
    )


def _dosage(dose: str | None, frequency: str | None) -> list[dict[str, Any]]:
    text = " ".join(part for part in (dose, frequency) if part)
    if not text:
        return []
    return [
        {
            "extension": extensions(dose=dose),
            "text": text,
            "timing": {"code": {"text": frequency}} if frequency else None,
        }
    ]


def medication_resource(row: PatientMedication, *, origins: Origins) -> dict[str, Any]:
    assert row.id is not None
    return compact(
        {
            "resourceType": "MedicationStatement",
            "id": resource_id("patient_medication", row.id),
            "extension": extensions(prescriber=row.prescriber),
            "identifier": identifiers("patient_medication", row.id, origins),
            "status": "active" if row.stopped_on is None else "completed",
            "medicationCodeableConcept": concept(row.name, system=row.code_system, code=row.code),
            "subject": ref("patient", row.patient_id),
            "effectivePeriod": period(row.started_on, row.stopped_on),
            "dosage": _dosage(row.dose, row.frequency),
        }
    )


def supplement_resource(row: SupplementItem, *, origins: Origins) -> dict[str, Any]:
    assert row.id is not None
    return compact(
        {
            "resourceType": "MedicationStatement",
            "id": resource_id("supplement_item", row.id),
            "extension": extensions(
                supplier=row.supplier,
                quantity_on_hand=row.quantity_on_hand,
                reorder_on=row.reorder_on,
                updated_at=row.updated_at,
            ),
            "identifier": identifiers("supplement_item", row.id, origins),
            "basedOn": [ref("care_programme", row.programme_id)] if row.programme_id else [],
            "status": SUPPLEMENT_STATUS[str(row.status)],
            "category": SUPPLEMENT_CATEGORY,
            "medicationCodeableConcept": {"text": row.product},
            "subject": ref("patient", row.patient_id),
            "effectivePeriod": period(row.started_on, row.stopped_on),
            "informationSource": practitioner_ref(row.prescriber_id),
            "dosage": _dosage(row.dose, row.frequency),
        }
    )


def quantity(value: float, unit: str | None) -> dict[str, Any]:
    """A valueQuantity; the unit is given as UCUM, as laboratories and devices write it."""
    out: dict[str, Any] = {"value": value}
    if unit:
        out.update(unit=unit, system=UCUM, code=unit)
    return out


def observation_resource(row: PatientObservation, *, origins: Origins) -> dict[str, Any]:
    """A vital sign (or another measurement that is not a lab result)."""
    assert row.id is not None
    value: dict[str, Any] = {}
    if row.value is not None:
        value["valueQuantity"] = quantity(row.value, row.unit)
    elif row.value_text:
        value["valueString"] = row.value_text
    return compact(
        {
            "resourceType": "Observation",
            "id": resource_id("patient_observation", row.id),
            "identifier": identifiers("patient_observation", row.id, origins),
            "status": "final",
            "category": [{"coding": [coding(OBSERVATION_CATEGORY, row.category)]}],
            "code": concept(row.name, system=row.code_system, code=row.code),
            "subject": ref("patient", row.patient_id),
            "effectiveDateTime": instant(row.observed_at) if row.observed_at else None,
            **value,
        }
    )
