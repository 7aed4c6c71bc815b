"""FHIR Condition -> the patient's conditions (`patient_condition`).

- name: the code's text, else a coding's display; a condition without one is skipped.
- status: clinicalStatus active, recurrence or relapse -> active; inactive, remission or
  resolved -> resolved; no clinicalStatus -> resolved when an abatement[x] is given, else
  active.
- onset: onsetDateTime, else onsetPeriod.start (onsetAge, onsetRange and onsetString carry no
  date and leave it empty).
- code: SNOMED CT first, then ICD-10-CM, then ICD-10, else the first coding.
- verificationStatus entered-in-error or refuted: not a condition the patient has; skipped
  and reported, and a row an earlier import wrote from the record is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from db.models import ConditionStatus, PatientCondition
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import (
    code_columns,
    concept_codes,
    concept_text,
    first_day,
)
from tools.interop.fhir.mapping.withdrawn import withdraw

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ACTIVE = frozenset({"active", "recurrence", "relapse"})
RESOLVED = frozenset({"inactive", "remission", "resolved"})
NOT_HELD = frozenset({"entered-in-error", "refuted"})
ABATEMENT = (
    "abatementDateTime",
    "abatementPeriod",
    "abatementAge",
    "abatementRange",
    "abatementString",
    "abatementBoolean",
)


def map_condition(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="no patient to file the condition under")
        return
    if concept_codes(raw.get("verificationStatus")) & NOT_HELD:
        withdraw(ctx=ctx, item=item, models=[PatientCondition])
        ctx.skip(
            item=item,
            field="verificationStatus",
            message="entered in error or refuted: not imported",
        )
        return
    name = concept_text(raw.get("code"))
    if not name:
        ctx.skip(item=item, field="code", message="no name or code for the condition")
        return
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "name": name[:200],
        "status": condition_status(raw),
        "onset_on": first_day(raw, "onsetDateTime", "onsetPeriod"),
        **code_columns(raw.get("code"), prefer=(SNOMED, ICD10CM, ICD10)),
    }
    ctx.write(item=item, model=PatientCondition, values=values, flush=False)


def condition_status(raw: Mapping[str, Any]) -> ConditionStatus:
    codes = concept_codes(raw.get("clinicalStatus"))
    if codes & ACTIVE:
        return ConditionStatus.ACTIVE
    if codes & RESOLVED:
        return ConditionStatus.RESOLVED
    if not codes and any(raw.get(name) not in (None, False) for name in ABATEMENT):
        return ConditionStatus.RESOLVED
    return ConditionStatus.ACTIVE


MAPPERS: dict[str, Mapper] = {"Condition": map_condition}
