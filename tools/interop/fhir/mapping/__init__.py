"""FHIR resources mapped into Steve's tables: one module per family, one mapper per type.

Each module exports `MAPPERS` (resource type -> mapper; see `context` for what a mapper is).
`mapper_for` finds the one for a type; types with none are counted as unmapped and reported,
never dropped silently. A patient's resources are mapped in `PATIENT_ORDER`, so that what
others point at (the patient, encounters, orders, reports) is written first.
"""

from __future__ import annotations

from tools.interop.fhir.mapping import (
    allergies,
    care_plans,
    communications,
    conditions,
    documents,
    medications,
    observations,
    patients,
    practitioners,
    questionnaires,
    reports,
    service_requests,
    visits,
)
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper, Tally

MAPPERS: dict[str, Mapper] = {
    **patients.MAPPERS,
    **practitioners.MAPPERS,
    **conditions.MAPPERS,
    **allergies.MAPPERS,
    **medications.MAPPERS,
    **observations.MAPPERS,
    **reports.MAPPERS,
    **service_requests.MAPPERS,
    **visits.MAPPERS,
    **care_plans.MAPPERS,
    **questionnaires.MAPPERS,
    **documents.MAPPERS,
    **communications.MAPPERS,
}

# Shared resources (no patient) first, in this order; then each patient's, in this order.
SHARED_ORDER = ("Organization", "Practitioner", "PractitionerRole", "Medication")
PATIENT_ORDER = (
    "Patient",
    "Encounter",
    "Appointment",
    "ServiceRequest",
    "DiagnosticReport",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "Medication",
    "MedicationStatement",
    "MedicationRequest",
    "Goal",
    "CarePlan",
    "QuestionnaireResponse",
    "DocumentReference",
    "Communication",
)


def mapper_for(resource_type: str) -> Mapper | None:
    return MAPPERS.get(resource_type)


def order_of(resource_type: str, *, order: tuple[str, ...]) -> int:
    """Sort key: the type's place in `order`, unknown types last."""
    return order.index(resource_type) if resource_type in order else len(order)


__all__ = [
    "MAPPERS",
    "PATIENT_ORDER",
    "SHARED_ORDER",
    "Item",
    "MapContext",
    "Mapper",
    "Tally",
    "mapper_for",
    "order_of",
]
