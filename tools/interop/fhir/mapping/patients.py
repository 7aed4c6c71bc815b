"""FHIR Patient -> the patient's row, after the import has decided who the patient is.

Who the patient is (`tools.interop.matching`) is decided before anything of theirs is written
(`identity_of` is what the match reads); `map_patient` then writes the demographics onto the
row the import chose: a new one, or the matched patient's (which gains the record's source).

- Names: the official name first, then the usual one. A patient with no name but an
  identifier is filed under placeholders ("(no given name)", "(no family name)"); one with
  neither is skipped (reported), since nothing could find them again.
- `birthDate` is required to file a patient (Steve's patients all have one; matching and
  search depend on it).
- `deceasedBoolean`/`deceasedDateTime`: the patient is marked deceased (and inactive).
- `generalPractitioner`: a Practitioner (or PractitionerRole) outside the practice becomes
  the patient's primary care provider; one of the practice's own becomes their physician.
- `identifier`: every one is kept (`PatientIdentifier`, the match's key next time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from db.models import Affiliation, Patient, PatientStatus, Practitioner, Sex
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import (
    address_line,
    codings,
    fhir_date,
    human_name,
    telecom,
)
from tools.interop.matching import Identifier, Identity, add_identifiers
from tools.interop.provenance import table_of
from tools.registry import name_key

NO_GIVEN_NAME = "(no given name)"
NO_FAMILY_NAME = "(no family name)"
SEXES = {"male": Sex.MALE, "female": Sex.FEMALE, "other": Sex.OTHER, "unknown": Sex.UNKNOWN}


def identifiers_of(raw: Mapping[str, Any]) -> list[Identifier]:
    found = []
    for identifier in raw.get("identifier") or []:
        if not isinstance(identifier, Mapping) or not identifier.get("value"):
            continue
        kind = next((c.get("code") for c in codings(identifier.get("type"))), None)
        system = identifier.get("system") or ""
        found.append(Identifier(str(system)[:300], str(identifier["value"])[:200], kind))
    return found


def identity_of(raw: Mapping[str, Any]) -> Identity:
    given, family = human_name(raw.get("name"))
    return Identity(
        identifiers=identifiers_of(raw),
        given_name=given,
        family_name=family,
        birth_date=fhir_date(raw.get("birthDate")),
    )


def fileable(*, item: Item, ctx: MapContext) -> bool:
    """Can this Patient be filed at all? (a name of some kind and a birth date)"""
    given, family = human_name(item.raw.get("name"))
    if not (given or family or identifiers_of(item.raw)):
        ctx.skip(item=item, field="name", message="no name or identifier to file the patient under")
        return False
    if fhir_date(item.raw.get("birthDate")) is None:
        ctx.skip(item=item, field="birthDate", message="no birth date to file the patient under")
        return False
    return True


def patient_values(*, item: Item, ctx: MapContext) -> dict[str, Any]:
    raw = item.raw
    given, family = human_name(raw.get("name"))
    given, family = (given or NO_GIVEN_NAME)[:100], (family or NO_FAMILY_NAME)[:100]
    deceased_on = fhir_date(raw.get("deceasedDateTime"))
    deceased = bool(raw.get("deceasedBoolean")) or deceased_on is not None
    values: dict[str, Any] = {
        "given_name": given,
        "family_name": family,
        "name_key": name_key(f"{given} {family}"),
        "date_of_birth": fhir_date(raw.get("birthDate")),
        "sex": SEXES.get(str(raw.get("gender")), Sex.UNKNOWN),
        "email": telecom(raw.get("telecom"), "email"),
        "phone": telecom(raw.get("telecom"), "phone"),
        "address": (address_line(raw.get("address")) or None),
        "deceased": deceased,
        "deceased_on": deceased_on,
    }
    if values["address"]:
        values["address"] = values["address"][:300]
    if deceased or raw.get("active") is False:
        values["status"] = PatientStatus.INACTIVE
    values |= _care_providers(item=item, ctx=ctx)
    return values


def _care_providers(*, item: Item, ctx: MapContext) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for reference in item.raw.get("generalPractitioner") or []:
        practitioner_id = ctx.practitioner_id(item=item, reference=reference)
        if practitioner_id is None:
            continue
        practitioner = ctx.session.get(Practitioner, practitioner_id)
        if practitioner is None:
            continue
        if practitioner.affiliation == Affiliation.IN_HOUSE:
            found.setdefault("primary_physician_id", practitioner_id)
        else:
            found.setdefault("primary_care_provider_id", practitioner_id)
    return found


def map_patient(*, item: Item, ctx: MapContext) -> None:
    """Write the patient's demographics onto `ctx.patient_id` (or a new row when None)."""
    if ctx.patient_id is not None:
        source = ctx.provenance.find(
            resource_type=item.resource_type, resource_id=item.resource_id, table="patient"
        )
        if source is None or source.row_id != ctx.patient_id:
            ctx.provenance.attach(
                origin=ctx.origin(item),
                table=table_of(Patient),
                row_id=ctx.patient_id,
                patient_id=ctx.patient_id,
            )
    written = ctx.write(item=item, model=Patient, values=patient_values(item=item, ctx=ctx))
    patient_id = written.row_id
    assert patient_id is not None
    ctx.patient_id = patient_id
    for source in ctx.provenance.parts(
        resource_type=item.resource_type, resource_id=item.resource_id, table="patient"
    ):
        source.patient_id = patient_id
    conflicts = add_identifiers(
        session=ctx.session, patient_id=patient_id, identifiers=identifiers_of(item.raw)
    )
    for _ in conflicts:
        ctx.report(
            item=item,
            field="identifier",
            message="identifier already belongs to another patient; not added",
        )


MAPPERS: dict[str, Mapper] = {"Patient": map_patient}
