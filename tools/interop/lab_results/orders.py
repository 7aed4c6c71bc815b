"""The lab order an incoming order's results belong to: found again, or made.

In this order: the order an earlier message of the same lab became (its provenance, the
lab's order key); an order with the same placer or filler number (an order Steve or the EHR
placed); the patient's oldest pending order for the same panel (by name or code) that has no
order number of its own yet; else a new order. An order number that belongs to another
patient's order is an error (`OrderConflict`), never a silent re-filing.

Who ordered it: OBR-16 matched to a practitioner of the practice by name; else the patient's
primary physician; else the first active in-house physician.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, or_, select

from db.models import (
    Affiliation,
    Discipline,
    LabOrder,
    LabStatus,
    Patient,
    Practitioner,
    PractitionerStatus,
    RecordSource,
)
from tools.interop.lab_results.incoming import IncomingOrder, Orderer, fitted_id
from tools.interop.provenance import Provenance, table_of
from tools.registry import PENDING_LAB_STATUSES, name_key

ORDER_TYPE = "OBR"


class OrderConflict(Exception):
    """An order number the lab sent belongs to another patient's order."""


class NoOrderer(Exception):
    """Nobody in the practice to route the results to."""


def ordering_practitioner(*, session: Session, orderer: Orderer | None, patient: Patient) -> int:
    """The practitioner the results go to (module doc)."""
    if orderer is not None and orderer.family_name:
        wanted = name_key(f"{orderer.given_name} {orderer.family_name}")
        family = name_key(orderer.family_name)
        people = session.exec(
            select(Practitioner)
            .where(Practitioner.status == PractitionerStatus.ACTIVE)
            .order_by(col(Practitioner.id))
        ).all()
        exact = [p for p in people if name_key(p.name) == wanted]
        by_family = [p for p in people if name_key(p.name).split(" ")[-1:] == [family]]
        for found in (exact, by_family):
            if len(found) == 1 and found[0].id is not None:
                return found[0].id
    if patient.primary_physician_id is not None:
        return patient.primary_physician_id
    fallback = session.exec(
        select(Practitioner.id)
        .where(
            Practitioner.discipline == Discipline.PHYSICIAN,
            Practitioner.affiliation == Affiliation.IN_HOUSE,
            Practitioner.status == PractitionerStatus.ACTIVE,
        )
        .order_by(col(Practitioner.id))
    ).first()
    if fallback is None:
        raise NoOrderer("no physician in the practice to route the results to")
    return fallback


def find_order(
    *, session: Session, provenance: Provenance, incoming: IncomingOrder, patient_id: int
) -> LabOrder | None:
    """The existing order these results belong to, or None (module doc)."""
    row_id = provenance.row_id(
        resource_type=ORDER_TYPE, resource_id=fitted_id(incoming.key), model=LabOrder
    )
    if row_id is not None and (order := session.get(LabOrder, row_id)) is not None:
        return order
    numbers = [
        condition
        for condition in (
            col(LabOrder.placer_number) == incoming.placer_number
            if incoming.placer_number
            else None,
            col(LabOrder.filler_number) == incoming.filler_number
            if incoming.filler_number
            else None,
        )
        if condition is not None
    ]
    if numbers:
        found = session.exec(select(LabOrder).where(or_(*numbers)).order_by(col(LabOrder.id))).all()
        if any(o.patient_id != patient_id for o in found):
            raise OrderConflict(f"{incoming.where}: the order number is another patient's order")
        if found:
            return found[0]
    return _pending_for_panel(session=session, incoming=incoming, patient_id=patient_id)


def _pending_for_panel(
    *, session: Session, incoming: IncomingOrder, patient_id: int
) -> LabOrder | None:
    names = {name_key(n) for n in (incoming.panel, incoming.panel_code or "") if n}
    pending = session.exec(
        select(LabOrder)
        .where(
            LabOrder.patient_id == patient_id,
            col(LabOrder.status).in_(PENDING_LAB_STATUSES),
            col(LabOrder.placer_number).is_(None),
            col(LabOrder.filler_number).is_(None),
        )
        .order_by(col(LabOrder.ordered_on), col(LabOrder.id))
    ).all()
    return next((o for o in pending if name_key(o.panel) in names), None)


def order_for(
    *,
    session: Session,
    provenance: Provenance,
    incoming: IncomingOrder,
    patient: Patient,
    lab: str,
    today: date,
    content_hash: str,
) -> tuple[LabOrder, bool]:
    """The order found or made (and whether it was made), with the lab's order numbers
    recorded on it and its provenance written."""
    assert patient.id is not None
    order = find_order(
        session=session, provenance=provenance, incoming=incoming, patient_id=patient.id
    )
    made = order is None
    if order is None:
        order = LabOrder(
            patient_id=patient.id,
            ordered_by_id=ordering_practitioner(
                session=session, orderer=incoming.orderer, patient=patient
            ),
            lab=lab[:200],
            panel=(incoming.panel or incoming.panel_code or "lab results")[:200],
            ordered_on=incoming.ordered_on or today,
            status=LabStatus.ORDERED,
        )
    order.placer_number = order.placer_number or incoming.placer_number
    order.filler_number = order.filler_number or incoming.filler_number
    session.add(order)
    session.flush()
    _record_source(
        session=session,
        provenance=provenance,
        incoming=incoming,
        order=order,
        content_hash=content_hash,
    )
    return order, made


def _record_source(
    *,
    session: Session,
    provenance: Provenance,
    incoming: IncomingOrder,
    order: LabOrder,
    content_hash: str,
) -> None:
    """The order's RecordSource (the order may be Steve's own, adopted by the lab's key)."""
    assert order.id is not None
    table = table_of(LabOrder)
    key = fitted_id(incoming.key)
    source = provenance.find(resource_type=ORDER_TYPE, resource_id=key, table=table)
    if source is None:
        taken = session.exec(
            select(RecordSource).where(
                RecordSource.table_name == table, RecordSource.row_id == order.id
            )
        ).first()
        if taken is not None:
            return  # the order came from another system's record: that provenance stays
        source = RecordSource(
            source_system=provenance.source_system,
            resource_type=ORDER_TYPE,
            resource_id=key,
            content_hash=content_hash,
            table_name=table,
            row_id=order.id,
            patient_id=order.patient_id,
        )
    elif source.content_hash == content_hash:
        return  # the same order as last time: nothing to write
    source.content_hash = content_hash
    session.add(source)
    session.flush()
