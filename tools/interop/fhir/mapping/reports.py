"""FHIR DiagnosticReport (laboratory) -> the lab order it reports (`lab_order`).

- Only laboratory reports: a category of the v2-0074 laboratory sections (LAB, CH, HM, MB,
  SR, ...), LOINC "LP29693-6" (Laboratory), or the words "laboratory"; a report without a
  category is one when a result it lists is a laboratory Observation. Anything else (imaging,
  Synthea's clinical notes, whose text comes again as a DocumentReference) is skipped with the
  reason "not a laboratory report". A report entered in error is skipped too.
- The order: panel = the report's code text, lab = the performing Organization's name (or a
  performer's display, else "unknown laboratory"), ordered by the requester of the
  ServiceRequest in `basedOn`, else a performing or interpreting practitioner, else the
  patient's physician or the unnamed clinician; ordered on the request's authoredOn, else
  effective[x], else issued. Status final, amended, corrected or appended -> received (received
  on the issued day, else the effective day); registered, partial, preliminary or unknown ->
  collected; cancelled -> cancelled. Placer and filler numbers from identifiers of type PLAC
  and FILL (the request's when the report has none). When the request is Steve's own export,
  the status its `urn:steve:extension:status` carries stands.
- How the report, its request and its results share one order: see `lab_orders`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from db.models import LabOrder, LabStatus
from tools.interop.fhir.mapping.context import Item, MapContext, Mapper
from tools.interop.fhir.mapping.lab_orders import (
    clinician,
    laboratory_name,
    order_by_number,
    write_order,
)
from tools.interop.fhir.mapping.values import (
    concept_codes,
    concept_text,
    concept_words,
    fhir_date,
    first_day,
    identifier_of_type,
    steve_extension,
)

LAB_SECTIONS = frozenset(
    {"LAB", "BLB", "CH", "CP", "CG", "HM", "HLA", "IMM", "MB", "MCB", "MYC", "OSL", "PAR"}
    | {"SP", "SR", "TX", "URN", "VR", "LP29693-6", "laboratory"}
)
EFFECTIVE = ("effectiveDateTime", "effectivePeriod")
RECEIVED = frozenset({"final", "amended", "corrected", "appended"})
ORDER_STATUS = {"cancelled": LabStatus.CANCELLED} | dict.fromkeys(RECEIVED, LabStatus.RECEIVED)


def map_report(*, item: Item, ctx: MapContext) -> None:
    raw = item.raw
    if ctx.patient_id is None:
        ctx.skip(item=item, field="subject", message="no patient to file the report under")
        return
    if not is_laboratory(item=item, ctx=ctx):
        ctx.skip(item=item, field="category", message="not a laboratory report")
        return
    if raw.get("status") == "entered-in-error":
        ctx.skip(item=item, field="status", message="entered in error: not imported")
        return
    requests = [
        (reference, target)
        for reference in raw.get("basedOn") or []
        if (target := ctx.target_raw(item=item, reference=reference)) is not None
        and target.get("resourceType") == "ServiceRequest"
    ]
    request: Mapping[str, Any] = requests[0][1] if requests else {}
    ordered_on = ordered_day(raw, request)
    if ordered_on is None:
        ctx.skip(item=item, field="effective[x]", message="no date for the report")
        return
    status = ORDER_STATUS.get(str(raw.get("status")), LabStatus.COLLECTED)
    steve = steve_extension(request, "status")  # Steve's own export: its status stands
    if steve in {s.value for s in LabStatus}:
        status = LabStatus(steve)
    issued = fhir_date(raw.get("issued")) or first_day(raw, *EFFECTIVE)
    placer = identifier_of_type(raw.get("identifier"), "PLAC")
    placer = placer or identifier_of_type(request.get("identifier"), "PLAC")
    filler = identifier_of_type(raw.get("identifier"), "FILL")
    filler = filler or identifier_of_type(request.get("identifier"), "FILL")
    clinicians = [request.get("requester"), *_list(raw.get("performer"))]
    values: dict[str, Any] = {
        "patient_id": ctx.patient_id,
        "panel": (concept_text(raw.get("code")) or "Laboratory report")[:200],
        "lab": laboratory_name(ctx=ctx, item=item, performers=raw.get("performer")),
        "ordered_by_id": clinician(
            ctx=ctx, item=item, references=[*clinicians, *_list(raw.get("resultsInterpreter"))]
        ),
        "ordered_on": ordered_on,
        "status": status,
        "received_on": issued if status == LabStatus.RECEIVED else None,
        "placer_number": placer,
        "filler_number": filler,
    }
    from_request = [
        ctx.row_id(item=item, reference=reference, model=LabOrder) for reference, _ in requests
    ]
    joins = [*from_request, order_by_number(ctx=ctx, placer=placer, filler=filler)]
    order_id = write_order(ctx=ctx, item=item, values=values, joins=joins).row_id
    assert order_id is not None  # orders are flushed: results need their id
    link_results(item=item, ctx=ctx, order_id=order_id)


def link_results(*, item: Item, ctx: MapContext, order_id: int) -> None:
    """Tell the report's Observations (and a panel's members) which order they belong to."""
    for reference in item.raw.get("result") or []:
        key = ctx.target_key(item=item, reference=reference)
        if key is None:
            continue
        ctx.written.setdefault(key, {})["lab_order"] = order_id
        panel = ctx.raw_of(key) or {}
        holder = Item(key=key, resource_type="Observation", resource_id="", raw=panel)
        for member in panel.get("hasMember") or []:
            member_key = ctx.target_key(item=holder, reference=member)
            if member_key is not None:
                ctx.written.setdefault(member_key, {})["lab_order"] = order_id


def is_laboratory(*, item: Item, ctx: MapContext) -> bool:
    categories = item.raw.get("category")
    if concept_codes(categories) & LAB_SECTIONS:
        return True
    if any("laborator" in words for words in concept_words(categories)):
        return True
    if categories:
        return False
    for reference in item.raw.get("result") or []:
        target = ctx.target_raw(item=item, reference=reference) or {}
        if "laboratory" in concept_codes(target.get("category")):
            return True
    return False


def ordered_day(raw: Mapping[str, Any], request: Mapping[str, Any]) -> date | None:
    return (
        fhir_date(request.get("authoredOn"))
        or first_day(raw, *EFFECTIVE)
        or fhir_date(raw.get("issued"))
    )


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


MAPPERS: dict[str, Mapper] = {"DiagnosticReport": map_report}
