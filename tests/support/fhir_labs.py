"""Synthea-style laboratory resources for mapper tests: a lipid panel's report and results.

Codes are real LOINC codes with their UCUM units; the shapes follow what Synthea and US Core
write (category `laboratory` on results, v2-0074 `LAB` on reports).
"""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

LIPIDS = {
    "obs-chol": ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", 212.0, "mg/dL"),
    "obs-trig": ("2571-8", "Triglycerides", 140.0, "mg/dL"),
    "obs-ldl": ("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma", 131.0, "mg/dL"),
    "obs-hdl": ("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", 54.0, "mg/dL"),
}


def category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": OBSERVATION_CATEGORY, "code": code}]}]


def lab_observation(
    obs_id: str,
    *,
    loinc: str,
    name: str,
    value: float,
    unit: str,
    **changes: Any,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "Observation",
        "id": obs_id,
        "meta": {"versionId": "1"},
        "status": "final",
        "category": category("laboratory"),
        "code": {"coding": [{"system": LOINC, "code": loinc, "display": name}], "text": name},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-04T08:10:00+00:00",
        "issued": "2024-03-05T14:30:00.000+00:00",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }
    raw.update(changes)
    return raw


def lipid_results() -> list[dict[str, Any]]:
    return [
        lab_observation(key, loinc=loinc, name=name, value=value, unit=unit)
        for key, (loinc, name, value, unit) in LIPIDS.items()
    ]


def laboratory() -> dict[str, Any]:
    return {
        "resourceType": "Organization",
        "id": "org-lab",
        "type": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                        "code": "prov",
                    }
                ]
            }
        ],
        "name": "Northside Diagnostics",
    }


def order_number(kind: str, value: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": V2_0203, "code": kind}]}, "value": value}


def lipid_report(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": "dr-lipids",
        "meta": {"versionId": "1"},
        "identifier": [order_number("FILL", "NSD-88120")],
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": "LAB", "display": "Laboratory"}]}],
        "code": {
            "coding": [{"system": LOINC, "code": "57698-3", "display": "Lipid panel"}],
            "text": "Lipid panel with direct LDL",
        },
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2024-03-04T08:10:00+00:00",
        "issued": "2024-03-05T14:30:00.000+00:00",
        "performer": [{"reference": "Organization/org-lab", "display": "Northside Diagnostics"}],
        "result": [{"reference": f"Observation/{key}"} for key in LIPIDS],
    }
    raw.update(changes)
    return raw


def lab_request(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": "sr-lipids",
        "meta": {"versionId": "1", "lastUpdated": "2024-03-01T09:00:00Z"},
        "identifier": [order_number("PLAC", "ORD-5521")],
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "108252007",
                        "display": "Laboratory procedure",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": "57698-3"}], "text": "Lipid panel"},
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2024-03-01T09:00:00Z",
        "requester": {"reference": "Practitioner/pr-1"},
        "performer": [{"reference": "Organization/org-lab"}],
    }
    raw.update(changes)
    return raw
