"""One lab order, however many records describe it: a ServiceRequest, a DiagnosticReport, an
Observation without either, or an HL7 message imported earlier.

A patient's ServiceRequests are mapped before their DiagnosticReports, and those before their
Observations, so each finds the order the one before wrote:
- a ServiceRequest writes the order (or joins one with the same placer number, e.g. from an
  earlier HL7 import);
- a DiagnosticReport joins the order of the ServiceRequest in its `basedOn`, else an order with
  its placer or filler number, else writes its own; then it records, for every Observation in
  its `result` (and the members of a panel Observation there), that this is their order
  (`ctx.written[observation key]["lab_order"]`, so `ctx.row_id(<observation>, LabOrder)`
  leads to it);
- an Observation takes that order, else the order of the result it wrote in an earlier import,
  else the order of the ServiceRequest in its `basedOn`, else writes an order of its own
  (panel = its name).
"Joining" gives the existing row a second source (`Provenance.attach`), so re-importing either
record finds it again. When records share an order, the status only moves forward (ordered,
collected, received, reviewed; cancelled always applies), the order's panel, clinician, date
and received date stay as the first record gave them, and a known laboratory or order number
fills in what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import func, or_, select

from db.models import LabOrder, LabStatus, Practitioner, RecordSource
from tools.interop.fhir.mapping.context import Item, MapContext
from tools.interop.fhir.mapping.values import reference_display, reference_id
from tools.interop.provenance import Written, table_of

UNKNOWN_LAB = "unknown laboratory"
PROGRESS = {
    LabStatus.ORDERED: 0,
    LabStatus.COLLECTED: 1,
    LabStatus.RECEIVED: 2,
    LabStatus.REVIEWED: 3,
}
FIRST_SAYS = ("panel", "ordered_by_id", "ordered_on")  # kept when records share an order
TABLE = table_of(LabOrder)


def order_by_number(*, ctx: MapContext, placer: str | None, filler: str | None) -> int | None:
    """The patient's order carrying this placer or filler number (one only), if any."""
    tests = []
    if placer:
        tests.append(LabOrder.placer_number == placer)
    if filler:
        tests.append(LabOrder.filler_number == filler)
    if not tests or ctx.patient_id is None:
        return None
    found = ctx.session.exec(
        select(LabOrder.id).where(LabOrder.patient_id == ctx.patient_id, or_(*tests))
    ).all()
    ids = sorted({i for i in found if i is not None})
    return ids[0] if len(ids) == 1 else None


def write_order(
    *, ctx: MapContext, item: Item, values: dict[str, Any], joins: Sequence[int | None] = ()
) -> Written[LabOrder]:
    """Write the order this record describes: its own row from an earlier import, else the
    first existing order of `joins`, else a new one (see the module doc for shared orders)."""
    own = ctx.provenance.find(
        resource_type=item.resource_type, resource_id=item.resource_id, table=TABLE
    )
    if own is not None and own.content_hash == ctx.origin(item).content_hash:
        return ctx.write(item=item, model=LabOrder, values=values)  # unchanged: no row loaded
    row_id = None
    if own is not None and ctx.session.get(LabOrder, own.row_id) is not None:
        row_id = own.row_id
    joined = False
    if row_id is None:
        row_id = next((j for j in joins if j is not None), None)
        if row_id is not None:
            ctx.provenance.attach(
                origin=ctx.origin(item), table=TABLE, row_id=row_id, patient_id=ctx.patient_id
            )
            joined = True
    existing = ctx.session.get(LabOrder, row_id) if row_id is not None else None
    if existing is not None:
        shared = joined or _shared(ctx=ctx, row_id=row_id)
        values = merged(existing=existing, values=values, shared=shared)
    return ctx.write(item=item, model=LabOrder, values=values)


def merged(*, existing: LabOrder, values: dict[str, Any], shared: bool) -> dict[str, Any]:
    out = dict(values)
    status = values.get("status")
    moving_back = isinstance(status, LabStatus) and PROGRESS.get(existing.status, -1) > (
        PROGRESS.get(status, -1)
    )
    if status != LabStatus.CANCELLED and moving_back:
        out["status"] = existing.status
    if shared:
        for name in FIRST_SAYS:
            out.pop(name, None)
        if values.get("lab") == UNKNOWN_LAB:
            out.pop("lab")
        if existing.received_on is not None:
            out.pop("received_on", None)
    for name in ("received_on", "placer_number", "filler_number", "expected_on"):
        if out.get(name) is None and getattr(existing, name) is not None:
            out.pop(name, None)
    return out


def _shared(*, ctx: MapContext, row_id: int | None) -> bool:
    ctx.session.flush()
    count = ctx.session.exec(
        select(func.count())
        .select_from(RecordSource)
        .where(RecordSource.table_name == TABLE, RecordSource.row_id == row_id)
    ).one()
    return count > 1


FALLBACK_KEY = "steve:fallback-clinician"  # never a resource's key (those are Type/id, file#n)


def clinician(*, ctx: MapContext, item: Item, references: list[Any]) -> int:
    """The first known clinician of `references`, else the fallback (the patient's physician or
    the unnamed clinician: `practitioner_or_fallback`), looked up once per patient and without
    flushing the rows the import keeps for one batched insert."""
    with ctx.session.no_autoflush:
        for reference in references:
            found = ctx.practitioner_id(item=item, reference=reference)
            if found is not None:
                return found
        cached = ctx.written.get(FALLBACK_KEY, {}).get(table_of(Practitioner))
        if isinstance(cached, int):
            return cached
        fallback = ctx.practitioner_or_fallback(item=item, references=[])
    ctx.written.setdefault(FALLBACK_KEY, {})[table_of(Practitioner)] = fallback
    return fallback


def laboratory_name(*, ctx: MapContext, item: Item, performers: Any) -> str:
    """The performing organisation's name, else a performer's display, else unknown."""
    references = [p for p in performers or [] if isinstance(p, Mapping)]
    for reference in references:
        target = ctx.target_raw(item=item, reference=reference) or {}
        name = target.get("name")
        if target.get("resourceType") == "Organization" and isinstance(name, str) and name.strip():
            return name.strip()[:200]
    for reference in references:
        unresolved = ctx.target_raw(item=item, reference=reference) is None
        literal = reference_id(reference)
        kind = reference.get("type") or (literal[0] if literal else None)
        if unresolved and kind in (None, "Organization") and reference_display(reference):
            return str(reference_display(reference))[:200]
    return UNKNOWN_LAB
