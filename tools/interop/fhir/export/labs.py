"""A lab order as a ServiceRequest (category laboratory) with, once results exist, a
DiagnosticReport; each result an Observation (category laboratory).

The order's Steve status travels in `urn:steve:extension:status` (FHIR's is coarser); the
laboratory's name is the ServiceRequest's `performer` display and the report's `performer`
display (no Organization: Steve knows the laboratory by name only); the placer and filler
numbers are identifiers of type PLAC and FILL. A result: `valueQuantity` with the unit as
UCUM, or `valueString`; `referenceRange` low/high/text; `interpretation` N/L/H/A/AA; the LOINC
(or other) code when known; `effectiveDateTime` the day resulted, `issued` when issued; a
corrected result keeps the value it replaced in `urn:steve:extension:previous-value`.
"""

from __future__ import annotations

from typing import Any

from db.models import LabOrder, LabResult
from tools.interop.fhir.conventions import (
    DIAGNOSTIC_SERVICE,
    IDENTIFIER_TYPE,
    INTERPRETATION,
    INTERPRETATION_CODES,
    LAB_ORDER_STATUS,
    OBSERVATION_CATEGORY,
    RESULT_STATUS,
    STATUS_EXTENSION,
    identifier_system,
    resource_id,
)
from tools.interop.fhir.export.clinical import quantity
from tools.interop.fhir.export.elements import (
    coding,
    compact,
    concept,
    day,
    extensions,
    identifiers,
    instant,
    practitioner_ref,
    ref,
)

Origins = list[tuple[str, str]]
LABORATORY = {"coding": [coding(OBSERVATION_CATEGORY, "laboratory", "Laboratory")]}
# DiagnosticReport.status for an order with results.
REPORT_STATUS = {"received": "final", "reviewed": "final", "cancelled": "cancelled"}


def _order_numbers(order: LabOrder) -> list[dict[str, Any]]:
    found = []
    for kind, number in (("PLAC", order.placer_number), ("FILL", order.filler_number)):
        if number:
            found.append(
                {
                    "type": {"coding": [coding(IDENTIFIER_TYPE, kind)]},
                    "system": identifier_system(f"lab_order:{kind.lower()}"),
                    "value": number,
                }
            )
    return found


def order_resource(order: LabOrder, *, origins: Origins) -> dict[str, Any]:
    assert order.id is not None
    return compact(
        {
            "resourceType": "ServiceRequest",
            "id": resource_id("lab_order", order.id),
            "extension": [
                {"url": STATUS_EXTENSION, "valueCode": str(order.status)},
                *extensions(
                    expected_on=order.expected_on,
                    received_on=order.received_on,
                    reviewed_by=practitioner_ref(order.reviewed_by_id),
                ),
            ],
            "identifier": identifiers("lab_order", order.id, origins) + _order_numbers(order),
            "status": LAB_ORDER_STATUS[str(order.status)],
            "intent": "order",
            "category": [LABORATORY],
            "code": {"text": order.panel},
            "subject": ref("patient", order.patient_id),
            "authoredOn": day(order.ordered_on),
            "requester": practitioner_ref(order.ordered_by_id),
            "performer": [{"display": order.lab}],
        }
    )


def report_resource(order: LabOrder, results: list[LabResult]) -> dict[str, Any] | None:
    """The DiagnosticReport of an order with results (None before any result)."""
    assert order.id is not None
    if not results:
        return None
    statuses = {str(r.status) for r in results}
    status = REPORT_STATUS.get(str(order.status), "partial")
    if status == "final" and "corrected" in statuses:
        status = "corrected"
    issued = [r.issued_at for r in results if r.issued_at is not None]
    return compact(
        {
            "resourceType": "DiagnosticReport",
            "id": resource_id("lab_report", order.id),
            "identifier": [{"system": identifier_system("lab_report"), "value": str(order.id)}],
            "basedOn": [ref("lab_order", order.id)],
            "status": status,
            "category": [{"coding": [coding(DIAGNOSTIC_SERVICE, "LAB", "Laboratory")]}],
            "code": {"text": order.panel},
            "subject": ref("patient", order.patient_id),
            "effectiveDateTime": day(order.received_on),
            "issued": instant(max(issued)) if issued else None,
            "performer": [{"display": order.lab}],
            "result": [ref("lab_result", r.id) for r in results if r.id is not None],
        }
    )


def _range(result: LabResult) -> list[dict[str, Any]]:
    out: dict[str, Any] = {}
    if result.ref_low is not None:
        out["low"] = quantity(result.ref_low, result.unit)
    if result.ref_high is not None:
        out["high"] = quantity(result.ref_high, result.unit)
    if result.ref_text:
        out["text"] = result.ref_text
    return [out] if out else []


def result_resource(result: LabResult, *, origins: Origins) -> dict[str, Any]:
    assert result.id is not None
    value: dict[str, Any] = {}
    if result.value is not None:
        value["valueQuantity"] = quantity(result.value, result.unit)
    elif result.value_text:
        value["valueString"] = result.value_text
    flag = INTERPRETATION_CODES[str(result.flag)]
    return compact(
        {
            "resourceType": "Observation",
            "id": resource_id("lab_result", result.id),
            "extension": extensions(
                previous_value=result.previous_value,
                value_text=result.value_text if result.value is not None else None,
            ),
            "identifier": identifiers("lab_result", result.id, origins),
            "basedOn": [ref("lab_order", result.order_id)],
            "status": RESULT_STATUS[str(result.status)],
            "category": [LABORATORY],
            "code": concept(result.analyte, system=result.code_system, code=result.code),
            "subject": ref("patient", result.patient_id),
            "effectiveDateTime": day(result.resulted_on),
            "issued": instant(result.issued_at) if result.issued_at else None,
            **value,
            "interpretation": [{"coding": [coding(INTERPRETATION, flag)]}],
            "referenceRange": _range(result),
        }
    )
