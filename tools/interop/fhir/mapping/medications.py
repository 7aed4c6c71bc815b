"""FHIR MedicationRequest and MedicationStatement -> medications, or supplements.

A record becomes a conventional medication (`patient_medication`) unless it is a dietary
supplement, which becomes a supplement (`supplement_item`, the integrative protocol's list).
FHIR has no element that says "dietary supplement" (RxNorm's term types are not in the
resource; MedicationStatement.category says where a medicine is taken, not what it is), so a
record is a supplement when, first match wins:
1. it is Steve's own export: the identifier `urn:steve:supplement_item|n` (a supplement) or
   `urn:steve:patient_medication|n` (a medication, whatever its name);
2. its category (MedicationStatement.category, MedicationRequest.category) carries Steve's
   coding `urn:steve:category|dietary-supplement` (what Steve's export writes) or SNOMED CT
   373453009 "Dietary supplement", or words "dietary / nutritional / food / herbal
   supplement";
3. the medication's concept (medicationCodeableConcept, or the referenced or contained
   Medication's `code` or `form`) carries that SNOMED concept or those words;
4. the product's name contains a common supplement ingredient of
   `tools/data/supplement_terms.csv` (magnesium, vitamin D3, omega-3, probiotics, ...) and no
   word of a drug form or route there (injection, topical, ointment, hydroxide, ...): "Vitamin
   D3 2000 IU capsule" is a supplement, "Cyanocobalamin injection" a medication.

A Medication resource (shared or contained) has no row of its own: it is read through the
records that reference it, and counted as mapped.

Fields: name and code from medicationCodeableConcept or the Medication (RxNorm, then dm+d,
then SNOMED CT); dose and frequency from the first dosage (doseAndRate, timing), else split
from its text ("400 mg twice daily"); status active, on-hold, intended or unknown -> current;
stopped, completed or cancelled -> stopped on effectivePeriod.end, else the validity or
bounds period's end, else authoredOn / dateAsserted. Records entered in error, not taken, or
still a draft are skipped and reported (a row an earlier import wrote from them is deleted).
The prescriber is the requester or informationSource (a practitioner or organisation, never
the patient): by name on a medication, as a practitioner row on a supplement. A supplement
needs a dose, a frequency and a start date: a missing one is defaulted ("as directed", the
record's date) and the default is reported.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from db.models import PatientMedication, SupplementItem, SupplementStatus
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.values import (
    code_columns,
    codings,
    concept_text,
    concept_words,
    display_name,
    dosage_text,
    dose_words,
    fhir_date,
    reference_display,
    reference_id,
    steve_extension,
    steve_row,
    timing_words,
)
from tools.interop.fhir.mapping.withdrawn import withdraw

TERMS = Path(__file__).resolve().parents[3] / "data" / "supplement_terms.csv"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CODE_PREFERENCE = (
    RXNORM,
    "https://dmd.nhs.uk",
    "http://snomed.info/sct/999000011000001104",
    SNOMED,
)
SUPPLEMENT_CODINGS = frozenset(
    {("urn:steve:category", "dietary-supplement"), (SNOMED, "373453009")}
)
SUPPLEMENT_WORDS = (
    "dietary supplement",
    "nutritional supplement",
    "food supplement",
    "herbal supplement",
)
CURRENT = frozenset({"active", "on-hold", "intended", "unknown"})
ENDED = frozenset({"stopped", "completed", "cancelled"})
NOT_TAKEN = {
    "entered-in-error": "entered in error: not imported",
    "not-taken": "not taken: not imported",
    "draft": "a draft request: not imported",
}
PRESCRIBER_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization"})
AS_DIRECTED = "as directed"
_LEADING_DOSE = re.compile(r"^\s*(\d+(?:[.,]\d+)?(?:\s*-\s*\d+(?:[.,]\d+)?)?\s*[^\W\d]+)\s*(.*)$")


def map_medication(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="no patient to file the medication under")
        return
    status = str(raw.get("status") or "unknown")
    if status in NOT_TAKEN:
        withdraw(ctx=ctx, item=item, models=[PatientMedication, SupplementItem])
        ctx.skip(item=item, field="status", message=NOT_TAKEN[status])
        return
    concept, medication = product(item=item, ctx=ctx)
    name = concept_text(concept) or reference_display(raw.get("medicationReference"))
    if not name:
        ctx.skip(item=item, field="medication[x]", message="no name or code for the medication")
        return
    started, stopped = dates(raw, ended=status in ENDED)
    if status in ENDED and stopped is None:
        ctx.skip(item=item, field="effectivePeriod.end", message="stopped, but no date says when")
        return
    dose, frequency = dose_and_frequency(raw)
    if is_supplement(raw=raw, concept=concept, medication=medication, name=name):
        withdraw(ctx=ctx, item=item, models=[PatientMedication])
        defaults = {"dose": dose, "frequency": frequency, "started_on": started}
        for field, value in defaults.items():
            if value is None:
                ctx.report(item=item, field=field, message="missing for a supplement; defaulted")
        values: dict[str, Any] = {
            "patient_id": ctx.patient_id,
            "product": name[:200],
            "dose": (dose or AS_DIRECTED)[:100],
            "frequency": (frequency or AS_DIRECTED)[:100],
            "started_on": started or stopped or record_day(raw),
            "stopped_on": stopped,
            "status": SupplementStatus.STOPPED if stopped else SupplementStatus.ACTIVE,
            "prescriber_id": prescriber_id(item=item, ctx=ctx),
            **steve_supplement_fields(raw),
        }
        if values["started_on"] is None:
            ctx.skip(item=item, field="effective[x]", message="no date for the supplement")
            return
        ctx.write(item=item, model=SupplementItem, values=values, flush=False)
        return
    withdraw(ctx=ctx, item=item, models=[SupplementItem])
    values = {
        "patient_id": ctx.patient_id,
        "name": name[:200],
        "dose": dose[:100] if dose else None,
        "frequency": frequency[:100] if frequency else None,
        "started_on": started,
        "stopped_on": stopped,
        "prescriber": prescriber_name(item=item, ctx=ctx),
        **code_columns(concept, prefer=CODE_PREFERENCE),
    }
    ctx.write(item=item, model=PatientMedication, values=values, flush=False)


def product(*, item: Item, ctx: MapContext) -> tuple[Any, Mapping[str, Any] | None]:
    """The medication's concept, and the Medication resource when one is referenced."""
    raw = item.raw
    if isinstance(raw.get("medicationCodeableConcept"), Mapping):
        return raw["medicationCodeableConcept"], None
    medication = ctx.target_raw(item=item, reference=raw.get("medicationReference"))
    if medication is None:
        return None, None
    return medication.get("code"), medication


def is_supplement(
    *, raw: Mapping[str, Any], concept: Any, medication: Mapping[str, Any] | None, name: str
) -> bool:
    """Is this record a dietary supplement (see the module doc for the rules, in order)?"""
    if steve_row(raw.get("identifier"), "patient_medication"):
        return False
    if steve_row(raw.get("identifier"), "supplement_item"):
        return True
    category = raw.get("category")
    concepts = [*(category if isinstance(category, list) else [category]), concept]
    if medication is not None:
        concepts += [medication.get("code"), medication.get("form")]
    if any(marks_supplement(c) for c in concepts):
        return True
    return named_supplement(name)


def marks_supplement(concept: Any) -> bool:
    pairs = {(c.get("system"), c.get("code")) for c in codings(concept)}
    if pairs & SUPPLEMENT_CODINGS:
        return True
    return any(w in text for text in concept_words(concept) for w in SUPPLEMENT_WORDS)


def named_supplement(name: str) -> bool:
    """Does the product's name name a supplement ingredient and no drug form or route?"""
    ingredients, drug_forms = _patterns()
    text = name.casefold()
    return bool(ingredients.search(text)) and not drug_forms.search(text)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    with TERMS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    def pattern(kind: str) -> re.Pattern[str]:
        terms = sorted((r["term"].casefold() for r in rows if r["kind"] == kind), key=len)
        words = "|".join(re.escape(t) for t in reversed(terms))
        return re.compile(rf"(?<![\w-])(?:{words})(?![\w-])")

    return pattern("ingredient"), pattern("drug-form")


def dates(raw: Mapping[str, Any], *, ended: bool) -> tuple[date | None, date | None]:
    """(started, stopped): stopped only for a record that says it ended."""
    candidates = [
        raw.get("effectivePeriod"),
        (raw.get("dispenseRequest") or {}).get("validityPeriod"),
    ]
    for dosage in raw.get("dosageInstruction") or raw.get("dosage") or []:
        timing = dosage.get("timing") if isinstance(dosage, Mapping) else None
        if isinstance(timing, Mapping) and isinstance(timing.get("repeat"), Mapping):
            candidates.append(timing["repeat"].get("boundsPeriod"))
    periods: list[Mapping[str, Any]] = [p for p in candidates if isinstance(p, Mapping)]
    starts = [
        fhir_date(raw.get("effectiveDateTime")),
        *(fhir_date(p.get("start")) for p in periods),
    ]
    started = next((s for s in starts if s is not None), None) or fhir_date(raw.get("authoredOn"))
    if not ended:
        return started, None
    end = next((e for p in periods if (e := fhir_date(p.get("end"))) is not None), None)
    stopped = end or record_day(raw) or started
    return started, stopped


def record_day(raw: Mapping[str, Any]) -> date | None:
    """The day the record was written: authoredOn, dateAsserted, else meta.lastUpdated."""
    for value in (raw.get("authoredOn"), raw.get("dateAsserted")):
        if fhir_date(value) is not None:
            return fhir_date(value)
    meta = raw.get("meta") if isinstance(raw.get("meta"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return fhir_date(meta.get("lastUpdated"))


def dose_and_frequency(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The first dosage's dose and frequency; when it has neither, split from its text."""
    dosages = [d for d in raw.get("dosage") or raw.get("dosageInstruction") or [] if d]
    if not dosages or not isinstance(dosages[0], Mapping):
        return None, None
    first = dosages[0]
    extension = steve_extension(first, "dose")
    dose = str(extension) if extension else dose_words(first)
    frequency = timing_words(first)
    if dose is None and frequency is None:
        text = dosage_text([first])
        if not text:
            return None, None
        found = _LEADING_DOSE.match(text)
        if found is None:
            return text, None
        return found.group(1), found.group(2) or None
    return dose, frequency


def prescriber_references(raw: Mapping[str, Any]) -> list[Any]:
    return [raw.get("requester"), raw.get("informationSource")]


def prescriber_id(*, item: Item, ctx: MapContext) -> int | None:
    for reference in prescriber_references(item.raw):
        if not _may_prescribe(ctx=ctx, item=item, reference=reference):
            continue
        found = ctx.practitioner_id(item=item, reference=reference)
        if found is not None:
            return found
    return None


def prescriber_name(*, item: Item, ctx: MapContext) -> str | None:
    extension = steve_extension(item.raw, "prescriber")
    if isinstance(extension, str) and extension.strip():
        return extension.strip()[:200]
    for reference in prescriber_references(item.raw):
        if not _may_prescribe(ctx=ctx, item=item, reference=reference):
            continue
        target = ctx.target_raw(item=item, reference=reference) or {}
        if target.get("resourceType") == "Organization":
            name = target.get("name")
        else:
            name = display_name(target.get("name"))
        name = name or reference_display(reference)
        if isinstance(name, str) and name.strip():
            return name.strip()[:200]
    return None


def _may_prescribe(*, ctx: MapContext, item: Item, reference: Any) -> bool:
    """A practitioner, role or organisation; not the patient or a relative."""
    if not isinstance(reference, Mapping):
        return False
    target = ctx.target_raw(item=item, reference=reference)
    if target is not None:
        return target.get("resourceType") in PRESCRIBER_TYPES
    literal = reference_id(reference)
    kind = reference.get("type") or (literal[0] if literal else None)
    return kind in PRESCRIBER_TYPES if isinstance(kind, str) else True


def steve_supplement_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What Steve's export carries in extensions for a supplement (only what is present)."""
    found: dict[str, Any] = {}
    supplier = steve_extension(raw, "supplier")
    if isinstance(supplier, str) and supplier.strip():
        found["supplier"] = supplier.strip()[:200]
    on_hand = steve_extension(raw, "quantity-on-hand")
    if isinstance(on_hand, int) and on_hand >= 0:
        found["quantity_on_hand"] = on_hand
    reorder = fhir_date(steve_extension(raw, "reorder-on"))
    if reorder is not None:
        found["reorder_on"] = reorder
    return found


def map_medication_product(*, item: Item, ctx: MapContext) -> None:
    """A Medication resource is read for the requests and statements that name it (its code,
    form and name); it is mapped through them and has no row of its own."""


MAPPERS: dict[str, Mapper] = {
    "Medication": map_medication_product,
    "MedicationRequest": map_medication,
    "MedicationStatement": map_medication,
}
