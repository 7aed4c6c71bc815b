"""The spelling of Steve's data in FHIR that the export writes and the import reads back."""

from __future__ import annotations

import pytest

from db.models.enums import (
    AppointmentStatus,
    ElementStatus,
    LabFlag,
    ProgrammeStatus,
    ResultStatus,
    SupplementStatus,
    TaskStatus,
    Urgency,
)
from tools.interop.fhir import conventions as c


def test_ids_and_identifiers_of_a_row() -> None:
    assert c.resource_id("supplement_item", 7) == "supplement-item-7"
    assert c.steve_identifier("supplement_item", 7) == {
        "system": "urn:steve:supplement_item",
        "value": "7",
    }
    found = [{"system": "urn:oid:1.2", "value": "x"}, c.steve_identifier("patient", 12)]
    assert c.row_of(found, "patient") == 12
    assert c.row_of(found, "referral") is None
    assert c.row_of(c.steve_identifier("intake_form", 3), "intake_form") == 3  # a single one


@pytest.mark.parametrize(
    ("name", "uri"),
    [
        ("SNOMED CT", c.SNOMED),
        ("loinc", c.LOINC),
        ("RxNorm", c.RXNORM),
        ("dm+d", c.DMD),
        ("ICD-10", c.ICD10),
        ("http://example.org/codes", "http://example.org/codes"),
        ("Practice codes", "urn:steve:code-system:practice-codes"),
    ],
)
def test_code_system_names_become_uris(name: str, uri: str) -> None:
    assert c.code_system_uri(name) == uri


def test_a_supplement_is_told_by_its_category() -> None:
    assert c.is_supplement({"category": c.SUPPLEMENT_CATEGORY})
    only_snomed = {"coding": [{"system": c.SNOMED, "code": c.SNOMED_DIETARY_SUPPLEMENT}]}
    assert c.is_supplement({"category": only_snomed})
    outpatient = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/medication-statement-category",
                "code": "outpatient",
            }
        ]
    }
    assert not c.is_supplement({"category": outpatient})
    assert not c.is_supplement({})


@pytest.mark.parametrize(
    ("mapping", "vocabulary"),
    [
        (c.INTERPRETATION_CODES, LabFlag),
        (c.RESULT_STATUS, ResultStatus),
        (c.PRIORITY, Urgency),
        (c.TASK_STATUS, TaskStatus),
        (c.CAREPLAN_STATUS, ProgrammeStatus),
        (c.ACTIVITY_STATUS, ElementStatus),
        (c.APPOINTMENT_STATUS, AppointmentStatus),
        (c.SUPPLEMENT_STATUS, SupplementStatus),
    ],
)
def test_one_to_one_maps_cover_the_vocabulary_and_invert(mapping: dict, vocabulary: type) -> None:
    assert set(mapping) == {v.value for v in vocabulary}
    assert c.inverse(mapping) == {fhir: steve for steve, fhir in mapping.items()}
    assert len(set(mapping.values())) == len(mapping)


def test_steve_extensions_are_read_back() -> None:
    element = {"extension": [{"url": c.extension_url("dose"), "valueString": "400 mg"}]}
    assert c.extension_value(element, "dose") == "400 mg"
    assert c.extension_value(element, "supplier") is None
    assert c.questionnaire_url("new_patient").rsplit("/", 1)[-1] == "new_patient"
