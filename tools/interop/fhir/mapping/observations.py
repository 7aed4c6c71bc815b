"""FHIR Observation -> lab results (`lab_result`) or other observations (`patient_observation`).

- Category laboratory, or listed in a laboratory DiagnosticReport's `result`: a lab result in
  an order (which order: see `lab_orders`; an Observation with none gets one of its own, panel
  = its name, lab = its performer or "unknown laboratory"). analyte and LOINC code from `code`;
  value from valueQuantity (number and unit, the UCUM unit when no display unit; a comparator
  such as "<" is kept in the value's words), valueString, valueCodeableConcept and the other
  value types as words, dataAbsentReason as words; referenceRange low/high/text; flag from the
  v3 ObservationInterpretation codes (N normal; L, LU low; H, HU high; A abnormal; LL, HH, AA
  critical; POS/DET abnormal, NEG/ND normal), else from the value against the range; status
  registered/preliminary/unknown -> preliminary, final -> final, amended/corrected ->
  corrected, cancelled -> cancelled; issued -> issued_at; effective[x] -> resulted_on. A new
  version with a different value keeps the value it replaces in `previous_value`.
- Any other category (vital-signs, social-history, survey, exam, ...) or none: an observation
  row with the category code, name, code (LOINC, then SNOMED CT), value and unit, and when
  (effective[x], else issued).
- `component`s (a blood pressure's systolic and diastolic) become one row each (part
  `component/<code>`); a row for a component no longer sent is deleted.
- A panel with only `hasMember` (its members carry the values) is mapped and writes no row;
  an Observation with no value at all is skipped, and one entered in error is skipped and its
  earlier rows deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from db.models import LabFlag, LabOrder, LabResult, LabStatus, PatientObservation, ResultStatus
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.lab_orders import clinician, laboratory_name, write_order
from tools.interop.fhir.mapping.values import (
    Measured,
    code_columns,
    codings,
    concept_codes,
    concept_text,
    effective_time,
    fhir_date,
    fhir_instant,
    first_day,
    measured,
    quantity,
    steve_extension,
)
from tools.interop.fhir.mapping.withdrawn import drop_parts, withdraw
from tools.interop.provenance import table_of

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CATEGORIES = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAGS = {"N": LabFlag.NORMAL, "NEG": LabFlag.NORMAL, "ND": LabFlag.NORMAL}
FLAGS |= {"L": LabFlag.LOW, "LU": LabFlag.LOW, "H": LabFlag.HIGH, "HU": LabFlag.HIGH}
FLAGS |= {"A": LabFlag.ABNORMAL, "POS": LabFlag.ABNORMAL, "DET": LabFlag.ABNORMAL}
FLAGS |= {"LL": LabFlag.CRITICAL, "HH": LabFlag.CRITICAL, "AA": LabFlag.CRITICAL}
RESULT_STATUS = {
    "registered": ResultStatus.PRELIMINARY,
    "preliminary": ResultStatus.PRELIMINARY,
    "final": ResultStatus.FINAL,
    "amended": ResultStatus.CORRECTED,
    "corrected": ResultStatus.CORRECTED,
    "cancelled": ResultStatus.CANCELLED,
}
ORDER_STATUS = {
    ResultStatus.PRELIMINARY: LabStatus.COLLECTED,
    ResultStatus.FINAL: LabStatus.RECEIVED,
    ResultStatus.CORRECTED: LabStatus.RECEIVED,
    ResultStatus.CANCELLED: LabStatus.CANCELLED,
}
Element = tuple[str, Mapping[str, Any]]  # (part, the Observation itself or a component)


def map_observation(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="no patient to file the observation under")
        return
    if raw.get("status") == "entered-in-error":
        withdraw(ctx=ctx, item=item, models=[LabResult, PatientObservation, LabOrder])
        ctx.skip(item=item, field="status", message="entered in error: not imported")
        return
    elements = valued_elements(raw)
    if not elements:
        if raw.get("hasMember"):
            return  # a panel: its members carry the values
        ctx.skip(item=item, field="value[x]", message="no value")
        return
    linked = linked_order(ctx=ctx, key=item.key)
    if linked is not None or "laboratory" in concept_codes(raw.get("category")):
        map_lab_result(item=item, ctx=ctx, elements=elements, linked=linked)
    else:
        map_other(item=item, ctx=ctx, elements=elements)


def linked_order(*, ctx: MapContext, key: str) -> int | None:
    """The order a report in this import listed this Observation under (see `lab_orders`)."""
    known = ctx.written.get(key, {}).get(table_of(LabOrder))
    if known is not None and not isinstance(known, int):
        if getattr(known, "id", None) is None:
            ctx.settle()
        known = getattr(known, "id", None)
    return known if isinstance(known, int) else None


def valued_elements(raw: Mapping[str, Any]) -> list[Element]:
    """The Observation (when it has a value) and each component with a value."""
    found: list[Element] = [("", raw)] if measured(raw) is not None else []
    for n, component in enumerate(raw.get("component") or []):
        if isinstance(component, Mapping) and measured(component) is not None:
            code = next(
                (str(c["code"]) for c in codings(component.get("code")) if c.get("code")), str(n)
            )
            found.append((f"component/{code}"[:60], component))
    return found


# ---------------------------------------------------------------------- lab results


def map_lab_result(
    *, item: Item, ctx: MapContext, elements: list[Element], linked: int | None
) -> None:
    parts = [part for part, _ in elements]
    if linked is None and unchanged(ctx=ctx, item=item, parts=parts):
        for part in parts:  # counted as unchanged; no row loaded, no order looked for
            ctx.write(item=item, model=LabResult, values={}, part=part, flush=False)
        return
    status = RESULT_STATUS.get(str(item.raw.get("status")), ResultStatus.PRELIMINARY)
    own = ctx.provenance.row_id(
        resource_type=item.resource_type, resource_id=item.resource_id, model=LabOrder
    )
    order_id = linked
    if order_id is None and own is not None:
        order_id = own_order(item=item, ctx=ctx, status=status)
    order_id = order_id or earlier_order(item=item, ctx=ctx, part=elements[0][0])
    order_id = order_id or requested_order(item=item, ctx=ctx)
    if order_id is None:
        order_id = own_order(item=item, ctx=ctx, status=status)
        if order_id is None:
            return
    for part, element in elements:
        values = result_values(item=item, ctx=ctx, part=part, element=element, status=status)
        move_result(item=item, ctx=ctx, part=part, order_id=order_id)
        values["order_id"] = order_id
        ctx.write(item=item, model=LabResult, values=values, part=part, flush=False)
    drop_parts(ctx=ctx, item=item, model=LabResult, keep={part for part, _ in elements})
    withdraw(ctx=ctx, item=item, models=[PatientObservation])
    if own is not None and own != order_id:
        withdraw(ctx=ctx, item=item, models=[LabOrder])  # its results moved to the report's


def unchanged(*, ctx: MapContext, item: Item, parts: list[str]) -> bool:
    """Was every result row of this Observation written from exactly this content (and its
    own order too, when it has one)?"""
    digest = ctx.origin(item).content_hash
    sources = [
        ctx.provenance.find(
            resource_type=item.resource_type,
            resource_id=item.resource_id,
            table=table_of(LabResult),
            part=part,
        )
        for part in parts
    ]
    own = ctx.provenance.find(
        resource_type=item.resource_type, resource_id=item.resource_id, table=table_of(LabOrder)
    )
    if own is not None and own.content_hash != digest:
        return False
    return all(s is not None and s.content_hash == digest for s in sources)


def move_result(*, item: Item, ctx: MapContext, part: str, order_id: int) -> None:
    """Put the result an earlier import wrote into `order_id` (a report now lists it), even
    when the Observation itself is unchanged (then `write` would leave the row alone)."""
    row = _earlier_result(item=item, ctx=ctx, part=part)
    if row is not None and row.order_id != order_id:
        row.order_id = order_id
        ctx.session.add(row)
        ctx.session.flush()


def _earlier_result(*, item: Item, ctx: MapContext, part: str) -> LabResult | None:
    source = ctx.provenance.find(
        resource_type=item.resource_type,
        resource_id=item.resource_id,
        table=table_of(LabResult),
        part=part,
    )
    return ctx.session.get(LabResult, source.row_id) if source is not None else None


def earlier_order(*, item: Item, ctx: MapContext, part: str) -> int | None:
    """The order of the result this Observation became in an earlier import."""
    row = _earlier_result(item=item, ctx=ctx, part=part)
    return row.order_id if row is not None else None


def requested_order(*, item: Item, ctx: MapContext) -> int | None:
    for reference in item.raw.get("basedOn") or []:
        found = ctx.row_id(item=item, reference=reference, model=LabOrder)
        if found is not None:
            return found
    return None


def own_order(*, item: Item, ctx: MapContext, status: ResultStatus) -> int | None:
    """An order of the Observation's own, for a result that no report or request orders."""
    raw = item.raw
    when = result_day(raw)
    if when is None:
        ctx.skip(item=item, field="effective[x]", message="no date for the result")
        return None
    issued = fhir_date(raw.get("issued")) or when
    order_status = ORDER_STATUS[status]
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "panel": (concept_text(raw.get("code")) or "Laboratory test")[:200],
        "lab": laboratory_name(ctx=ctx, item=item, performers=raw.get("performer")),
        "ordered_by_id": clinician(ctx=ctx, item=item, references=list(raw.get("performer") or [])),
        "ordered_on": when,
        "status": order_status,
        "received_on": issued if order_status == LabStatus.RECEIVED else None,
    }
    return write_order(ctx=ctx, item=item, values=values).row_id


def result_values(
    *, item: Item, ctx: MapContext, part: str, element: Mapping[str, Any], status: ResultStatus
) -> dict[str, Any]:
    raw = item.raw
    value = measured(element) or Measured(None, None, None)
    words = steve_extension(element, "value-text")
    if isinstance(words, str) and words:
        value = Measured(value.value, words, value.unit)
    ranges = element.get("referenceRange") or ([] if part else raw.get("referenceRange")) or []
    first = next((r for r in ranges if isinstance(r, Mapping)), {})
    low, high = quantity(first.get("low")), quantity(first.get("high"))
    ref_low = low.value if low else None
    ref_high = high.value if high else None
    interpretation = element.get("interpretation") or ([] if part else raw.get("interpretation"))
    issued = fhir_instant(raw.get("issued"))
    concept = element.get("code")
    return {
        "patient_id": ctx.patient_id,
        "analyte": (concept_text(concept) or "Result")[:200],
        "value": value.value,
        "value_text": value.text[:200] if value.text else None,
        "unit": value.unit[:40] if value.unit else None,
        "ref_low": ref_low,
        "ref_high": ref_high,
        "ref_text": str(first["text"])[:200] if first.get("text") else None,
        "flag": flag(interpretation, value=value.value, low=ref_low, high=ref_high),
        "resulted_on": result_day(raw),
        "status": status,
        "issued_at": issued,
        "previous_value": previous_value(item=item, ctx=ctx, part=part, value=value),
        **code_columns(concept, prefer=(LOINC,)),
    }


def result_day(raw: Mapping[str, Any]) -> date | None:
    """The day the result applies to, as the record writes it: effective[x], else issued."""
    found = first_day(raw, "effectiveDateTime", "effectivePeriod", "effectiveInstant")
    return found or fhir_date(raw.get("issued"))


def flag(
    interpretation: Any, *, value: float | None, low: float | None, high: float | None
) -> LabFlag:
    """The interpretation's flag, else the value against the reference range, else normal."""
    for concept in interpretation if isinstance(interpretation, list) else [interpretation]:
        for coding in codings(concept):
            if str(coding.get("code")) in FLAGS:
                return FLAGS[str(coding.get("code"))]
    if value is not None and low is not None and value < low:
        return LabFlag.LOW
    if value is not None and high is not None and value > high:
        return LabFlag.HIGH
    return LabFlag.NORMAL


def previous_value(*, item: Item, ctx: MapContext, part: str, value: Measured) -> str | None:
    """What the result said before, when this version changes it (else what it kept)."""
    row = _earlier_result(item=item, ctx=ctx, part=part)
    if row is None:
        sent = steve_extension(item.raw, "previous-value")
        return str(sent)[:200] if isinstance(sent, str) and sent else None
    before = Measured(row.value, row.value_text, row.unit).shown()
    if before is not None and before != value.shown():
        return before[:200]
    return row.previous_value


# ---------------------------------------------------------------- other observations


def map_other(*, item: Item, ctx: MapContext, elements: list[Element]) -> None:
    raw = item.raw
    category = category_code(raw.get("category"))
    observed = effective_time(raw) or fhir_instant(raw.get("issued"))
    for part, element in elements:
        value = measured(element) or Measured(None, None, None)
        concept = element.get("code")
        values = {
            "patient_id": ctx.patient_id,
            "category": category,
            "name": (concept_text(concept) or "Observation")[:200],
            "value": value.value,
            "value_text": value.text[:200] if value.text else None,
            "unit": value.unit[:40] if value.unit else None,
            "observed_at": observed,
            **code_columns(concept, prefer=(LOINC, SNOMED)),
        }
        ctx.write(item=item, model=PatientObservation, values=values, part=part, flush=False)
    drop_parts(ctx=ctx, item=item, model=PatientObservation, keep={p for p, _ in elements})
    withdraw(ctx=ctx, item=item, models=[LabResult, LabOrder])


def category_code(categories: Any) -> str:
    """The observation-category code (vital-signs, social-history, ...), else any code."""
    concepts = categories if isinstance(categories, list) else [categories]
    found = [c for concept in concepts for c in codings(concept) if c.get("code")]
    preferred = [c for c in found if c.get("system") == CATEGORIES] or found
    if preferred:
        return str(preferred[0]["code"])[:60]
    words = next((concept_text(c) for c in concepts if concept_text(c)), None)
    return (words or "other")[:60]


MAPPERS: dict[str, Mapper] = {"Observation": map_observation}
