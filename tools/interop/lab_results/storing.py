"""One patient's incoming lab orders written: each order found or made, each result created
or updated through its provenance (a re-sent message changes nothing), a corrected result
replacing the value it corrects (kept in `previous_value`), and the order's status moved on.

Nothing here commits: the caller's transaction holds one HL7 message, or one patient's rows
of a CSV file, whole.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from db.models import LabOrder, LabResult, LabStatus, Patient, RecordSource, ResultStatus
from tools.interop.lab_results.incoming import (
    IncomingOrder,
    IncomingResult,
    fitted_id,
    shown_value,
)
from tools.interop.lab_results.orders import ORDER_TYPE, order_for
from tools.interop.lab_results.routing import (
    Correction,
    close_chase,
    route_for_review,
    tell_correction,
)
from tools.interop.provenance import Origin, Outcome, Provenance, content_hash, table_of

RESULT_TYPE = "OBX"
_FIELDS = (
    "analyte",
    "code",
    "code_system",
    "value",
    "value_text",
    "unit",
    "ref_low",
    "ref_high",
    "ref_text",
    "flag",
    "status",
    "resulted_on",
    "issued_at",
)


@dataclass
class Stored:
    """What storing changed, in counts (never values)."""

    counts: Counter[str] = field(default_factory=Counter)
    orders: list[int] = field(default_factory=list)

    def add(self, other: Stored) -> None:
        self.counts.update(other.counts)
        self.orders.extend(other.orders)


def store_orders(
    *,
    session: Session,
    provenance: Provenance,
    patient: Patient,
    orders: tuple[IncomingOrder, ...] | list[IncomingOrder],
    lab: str,
    today: date,
    sent_at: datetime | None,
    now: datetime,
    actor: str,
) -> Stored:
    """Write every order of one patient's message or file rows (module doc)."""
    stored = Stored()
    # Every record of the message found in two queries, not a query per result.
    provenance.preload(
        records=[(ORDER_TYPE, fitted_id(o.key)) for o in orders]
        + [(RESULT_TYPE, _result_id(o, r)) for o in orders for r in o.results]
    )
    for incoming in orders:
        stored.add(
            _store_order(
                session=session,
                provenance=provenance,
                patient=patient,
                incoming=incoming,
                lab=lab,
                today=today,
                sent_at=sent_at,
                now=now,
                actor=actor,
            )
        )
    return stored


def _store_order(
    *,
    session: Session,
    provenance: Provenance,
    patient: Patient,
    incoming: IncomingOrder,
    lab: str,
    today: date,
    sent_at: datetime | None,
    now: datetime,
    actor: str,
) -> Stored:
    stored = Stored()
    order, made = order_for(
        session=session,
        provenance=provenance,
        incoming=incoming,
        patient=patient,
        lab=lab,
        today=today,
        content_hash=content_hash(_order_record(incoming)),
    )
    assert order.id is not None
    stored.counts["orders created" if made else "orders matched"] += 1
    stored.orders.append(order.id)
    changed = False
    corrections: list[Correction] = []
    unowned = {} if made else _unowned_by_code(session=session, order=order)
    for result in incoming.results:
        outcome, correction = _store_result(
            session=session,
            provenance=provenance,
            order=order,
            result=result,
            incoming=incoming,
            sent_at=sent_at,
            unowned=unowned,
        )
        stored.counts[f"results {outcome}"] += 1
        changed = changed or outcome in (Outcome.CREATED, Outcome.UPDATED)
        if correction is not None:
            corrections.append(correction)
            stored.counts["results corrected"] += 1
    if not changed:
        return stored
    _move_status(session=session, order=order, today=today)
    if order.status == LabStatus.RECEIVED:
        stored.counts["chase tasks closed"] += close_chase(
            session=session, order=order, actor=actor, now=now
        )
    stored.counts["review tasks"] += route_for_review(
        session=session, order=order, patient=patient, actor=actor, now=now
    )
    for correction in corrections:
        tell_correction(session=session, order=order, correction=correction, now=now)
    return stored


def _store_result(
    *,
    session: Session,
    provenance: Provenance,
    order: LabOrder,
    result: IncomingResult,
    incoming: IncomingOrder,
    sent_at: datetime | None,
    unowned: dict[str, LabResult],
) -> tuple[Outcome, Correction | None]:
    assert order.id is not None
    values: dict[str, Any] = {name: getattr(result, name) for name in _FIELDS}
    values.update(order_id=order.id, patient_id=order.patient_id)
    origin = Origin(
        source_system=provenance.source_system,
        resource_type=RESULT_TYPE,
        resource_id=_result_id(incoming, result),
        content_hash=content_hash(values),
        last_updated=sent_at,
    )
    row_id = provenance.row_id(
        resource_type=RESULT_TYPE, resource_id=origin.resource_id, model=LabResult
    )
    existing = session.get(LabResult, row_id) if row_id is not None else None
    adopted = None if row_id is not None or result.code is None else unowned.pop(result.code, None)
    before_row = existing or adopted
    before = None
    if before_row is not None:
        before = shown_value(before_row.value, before_row.value_text, before_row.unit)[:200]
    correcting = result.status == ResultStatus.CORRECTED and before_row is not None
    if correcting and before_row is not None:
        after = shown_value(result.value, result.value_text, result.unit)
        kept = before_row.previous_value if before_row.status == ResultStatus.CORRECTED else None
        values["previous_value"] = kept if (kept and after == before) else before
    if adopted is not None:
        row, outcome = (
            _adopt(
                session=session, provenance=provenance, row=adopted, origin=origin, values=values
            ),
            Outcome.UPDATED,
        )
    else:
        written = provenance.write(
            origin=origin, model=LabResult, values=values, patient_id=order.patient_id
        )
        row, outcome = written.row, written.outcome
    if not (correcting and outcome == Outcome.UPDATED and before is not None):
        return outcome, None
    return outcome, Correction(
        result_id=row.id or 0,
        analyte=row.analyte,
        before=before,
        after=shown_value(row.value, row.value_text, row.unit),
    )


def _result_id(order: IncomingOrder, result: IncomingResult) -> str:
    return fitted_id(f"{order.key}|{result.key}")


def _unowned_by_code(*, session: Session, order: LabOrder) -> dict[str, LabResult]:
    """The results of an order Steve already held that no outside record owns, by code: a
    lab's result with the same code replaces one (rather than standing beside it)."""
    rows = session.exec(
        select(LabResult)
        .where(LabResult.order_id == order.id, col(LabResult.code).is_not(None))
        .order_by(col(LabResult.id))
    ).all()
    if not rows:
        return {}
    owned = set(
        session.exec(
            select(RecordSource.row_id).where(
                RecordSource.table_name == table_of(LabResult),
                col(RecordSource.row_id).in_([r.id for r in rows]),
            )
        ).all()
    )
    found: dict[str, LabResult] = {}
    for row in rows:
        if row.id not in owned and row.code is not None:
            found.setdefault(row.code, row)
    return found


def _adopt(
    *,
    session: Session,
    provenance: Provenance,
    row: LabResult,
    origin: Origin,
    values: dict[str, Any],
) -> LabResult:
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add(
        RecordSource(
            source_system=provenance.source_system,
            resource_type=origin.resource_type,
            resource_id=origin.resource_id,
            content_hash=origin.content_hash,
            last_updated=origin.last_updated,
            table_name=table_of(LabResult),
            row_id=row.id,
            patient_id=row.patient_id,
        )
    )
    session.flush()
    return row


def _move_status(*, session: Session, order: LabOrder, today: date) -> None:
    """Every result final (or corrected, or cancelled) -> received today (again, after a
    correction to an order already reviewed); otherwise collected (results coming in)."""
    statuses = session.exec(select(LabResult.status).where(LabResult.order_id == order.id)).all()
    done = bool(statuses) and all(s != ResultStatus.PRELIMINARY for s in statuses)
    if done:
        order.status = LabStatus.RECEIVED
        order.received_on = today
    elif order.status in (LabStatus.ORDERED,):
        order.status = LabStatus.COLLECTED
    session.add(order)
    session.flush()


def _order_record(incoming: IncomingOrder) -> dict[str, Any]:
    return {
        "type": ORDER_TYPE,
        "key": incoming.key,
        "placer": incoming.placer_number,
        "filler": incoming.filler_number,
        "panel": incoming.panel,
        "code": incoming.panel_code,
    }
