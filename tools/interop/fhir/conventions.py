"""How Steve's own data is spelled in FHIR: the systems, extensions and codes both directions use.

The exporter writes these and the importer reads them back, so a practice exported by Steve
and imported into another Steve comes back the same. Everything Steve-specific lives under
the `urn:steve:` namespace:

- the practice: each practice gets a random id once (`practice_meta` key `practice_id`), and
  `urn:steve:practice:<id>` is the `meta.source` of every resource it exports, so an importer
  can tell two Steve practices apart (and use it as the source system).
- ids: a row becomes the resource id `<table>-<rowid>` with the table's underscores as hyphens
  (`patient-12`, `supplement-item-7`; FHIR ids allow letters, digits, `-` and `.`), and carries
  the identifier `urn:steve:<table>|<rowid>` (`urn:steve:supplement_item|7`). The patient's is
  scoped to the practice, `urn:steve:practice:<id>:patient|12`: patients are matched by
  identifier, and patient 12 of one practice must never match patient 12 of another. A row
  that came from an import also carries the original record's identifier: system = the
  RecordSource's source system, value = its resource id (`RecordSource.resource_id`).
- dietary supplements: a `MedicationStatement` whose `category` has the coding
  `urn:steve:category|dietary-supplement` (and SNOMED CT 373453009 "Dietary supplement" beside
  it for other systems). FHIR's own medication-statement-category code system
  (inpatient, outpatient, community, patientspecified) says where a medication is taken, not
  what it is, so it cannot mark a supplement. A statement without the Steve coding, but with
  the SNOMED one, is a supplement too (`is_supplement`).
- Steve's vocabularies (disciplines, message kinds, document kinds) are code systems
  `urn:steve:<vocabulary>`; fields FHIR has no element for are extensions
  `urn:steve:extension:<field>` (`extension_url`). Where FHIR's status vocabulary is coarser
  than Steve's, the Steve status travels too, in `urn:steve:extension:status`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STEVE = "urn:steve"

# ------------------------------------------------------------------ ids and identifiers


def resource_id(table: str, row_id: int) -> str:
    """The FHIR id of a Steve row: `patient-12`, `supplement-item-7`."""
    return f"{table.replace('_', '-')}-{row_id}"


def identifier_system(table: str) -> str:
    """The identifier system of a Steve table's row ids: `urn:steve:patient`."""
    return f"{STEVE}:{table}"


def steve_identifier(table: str, row_id: int) -> dict[str, str]:
    return {"system": identifier_system(table), "value": str(row_id)}


def practice_urn(practice_id: str) -> str:
    """The URI of one Steve practice: `urn:steve:practice:<id>` (meta.source of its exports)."""
    return f"{STEVE}:practice:{practice_id}"


def patient_identifier(practice_id: str, row_id: int) -> dict[str, str]:
    """The patient's Steve identifier, scoped to its practice."""
    return {"system": f"{practice_urn(practice_id)}:patient", "value": str(row_id)}


def _is_system_of(system: Any, table: str) -> bool:
    if not isinstance(system, str):
        return False
    scoped = system.startswith(f"{STEVE}:practice:") and system.endswith(f":{table}")
    return system == identifier_system(table) or scoped


def row_of(identifiers: Any, table: str) -> int | None:
    """The Steve row id among a resource's identifiers (JSON), if it carries one for `table`
    (`urn:steve:<table>`, or for a patient `urn:steve:practice:<id>:patient`)."""
    if isinstance(identifiers, Mapping):
        identifiers = [identifiers]
    for identifier in identifiers or []:
        if isinstance(identifier, Mapping) and _is_system_of(identifier.get("system"), table):
            value = str(identifier.get("value", ""))
            return int(value) if value.isdigit() else None
    return None


# ------------------------------------------------------------------ code systems

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DMD = "https://dmd.nhs.uk"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

# The names a Steve row may give its code system, and the FHIR system URI each stands for.
CODE_SYSTEM_URIS: dict[str, str] = {
    "snomed": SNOMED,
    "snomed ct": SNOMED,
    "snomed-ct": SNOMED,
    "sct": SNOMED,
    "loinc": LOINC,
    "rxnorm": RXNORM,
    "dm+d": DMD,
    "dmd": DMD,
    "icd-10": ICD10,
    "icd10": ICD10,
    "icd-10-cm": ICD10CM,
    "icd10cm": ICD10CM,
    "ucum": UCUM,
}


def code_system_uri(name: str) -> str:
    """The FHIR system URI for a stored code system (a URI stays as it is)."""
    text = name.strip()
    if ":" in text:
        return text
    known = CODE_SYSTEM_URIS.get(text.lower())
    if known:
        return known
    slug = "-".join(text.lower().split()) or "unknown"
    return f"{STEVE}:code-system:{slug}"


def vocabulary_system(name: str) -> str:
    """A Steve vocabulary as a code system: `urn:steve:discipline`."""
    return f"{STEVE}:{name}"


DISCIPLINE_SYSTEM = vocabulary_system("discipline")
AFFILIATION_SYSTEM = vocabulary_system("affiliation")
MESSAGE_KIND_SYSTEM = vocabulary_system("message-kind")
DOCUMENT_KIND_SYSTEM = vocabulary_system("document-kind")
CATEGORY_SYSTEM = vocabulary_system("category")

# DocumentReference.category codes telling Steve's three kinds of document apart.
CLINICAL_NOTE = "clinical-note"
GENERATED_DOCUMENT = "generated-document"
PATIENT_DOCUMENT = "patient-document"


def questionnaire_url(form_type: str) -> str:
    """The canonical URL of a Steve intake form type: `urn:steve:questionnaire/new_patient`."""
    return f"{STEVE}:questionnaire/{form_type}"


# ------------------------------------------------------------------ supplements

SUPPLEMENT_CODE = "dietary-supplement"
SNOMED_DIETARY_SUPPLEMENT = "373453009"
SUPPLEMENT_CATEGORY: dict[str, Any] = {
    "coding": [
        {"system": CATEGORY_SYSTEM, "code": SUPPLEMENT_CODE, "display": "Dietary supplement"},
        {"system": SNOMED, "code": SNOMED_DIETARY_SUPPLEMENT, "display": "Dietary supplement"},
    ],
    "text": "Dietary supplement",
}


def is_supplement(statement: Mapping[str, Any]) -> bool:
    """Is this MedicationStatement (JSON) a dietary supplement by the convention above?"""
    category = statement.get("category")
    categories = category if isinstance(category, list) else [category]
    for concept in categories:
        if not isinstance(concept, Mapping):
            continue
        for coding in concept.get("coding") or []:
            pair = (coding.get("system"), coding.get("code"))
            if pair in {(CATEGORY_SYSTEM, SUPPLEMENT_CODE), (SNOMED, SNOMED_DIETARY_SUPPLEMENT)}:
                return True
    return False


# ------------------------------------------------------------------ extensions


def extension_url(field: str) -> str:
    """The extension carrying a Steve field FHIR has no element for."""
    return f"{STEVE}:extension:{field}"


STATUS_EXTENSION = extension_url("status")
PRIMARY_PHYSICIAN_EXTENSION = extension_url("primary-physician")


def extension_value(resource: Mapping[str, Any], field: str) -> Any:
    """The value of a Steve extension on a resource or element (JSON), or None."""
    url = extension_url(field)
    for extension in resource.get("extension") or []:
        if isinstance(extension, Mapping) and extension.get("url") == url:
            for key, value in extension.items():
                if key.startswith("value"):
                    return value
    return None


# ------------------------------------------------------------------ statuses (Steve -> FHIR)
# Each map is one to one where the comment says so; the importer inverts those.

GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"

# Lab flag -> Observation.interpretation (one to one).
INTERPRETATION_CODES = {"normal": "N", "low": "L", "high": "H", "abnormal": "A", "critical": "AA"}
# Result status -> Observation.status (one to one).
RESULT_STATUS = {
    "preliminary": "preliminary",
    "final": "final",
    "corrected": "corrected",
    "cancelled": "cancelled",
}
# Lab order status -> ServiceRequest.status (coarser: the Steve status travels too).
LAB_ORDER_STATUS = {
    "ordered": "active",
    "collected": "active",
    "received": "completed",
    "reviewed": "completed",
    "cancelled": "revoked",
}
# Referral status -> ServiceRequest.status (coarser: the Steve status travels too).
REFERRAL_STATUS = {
    "draft": "draft",
    "sent": "active",
    "accepted": "active",
    "scheduled": "active",
    "seen": "active",
    "report_received": "active",
    "closed": "completed",
    "declined": "revoked",
}
# Urgency -> ServiceRequest.priority (one to one).
PRIORITY = {"routine": "routine", "soon": "urgent", "urgent": "asap"}
# Task status -> Task.status (one to one).
TASK_STATUS = {
    "open": "requested",
    "in_progress": "in-progress",
    "done": "completed",
    "cancelled": "cancelled",
}
# Programme status -> CarePlan.status (one to one).
CAREPLAN_STATUS = {"active": "active", "paused": "on-hold", "completed": "completed"}
# Programme element status -> CarePlan.activity.detail.status (one to one).
ACTIVITY_STATUS = {
    "planned": "not-started",
    "active": "in-progress",
    "paused": "on-hold",
    "completed": "completed",
    "stopped": "stopped",
}
# Appointment status -> Appointment.status (one to one).
APPOINTMENT_STATUS = {
    "booked": "booked",
    "arrived": "arrived",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
# Supplement status -> MedicationStatement.status (one to one); a medication is "active"
# until it has a stop date, then "completed".
SUPPLEMENT_STATUS = {"active": "active", "stopped": "stopped"}


def inverse(mapping: Mapping[str, str]) -> dict[str, str]:
    """FHIR code -> Steve value, for the one-to-one maps above."""
    return {fhir: steve for steve, fhir in mapping.items()}
