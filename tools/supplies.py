"""Supplement reorders and late lab results: the loose ends in stock and labs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from db.models import LabOrder, LabResult, LabStatus, SupplementItem, SupplementStatus
from tools.registry import PENDING_LAB_STATUSES


def reorders_due(*, session: Session, today: date, lead_days: int = 7) -> list[SupplementItem]:
    """Active supplement items whose reorder date is past or within `lead_days`."""
    stmt = (
        select(SupplementItem)
        .where(
            SupplementItem.status == SupplementStatus.ACTIVE,
            col(SupplementItem.reorder_on).is_not(None),
            col(SupplementItem.reorder_on) <= today + timedelta(days=lead_days),
        )
        .order_by(col(SupplementItem.reorder_on), col(SupplementItem.id))
    )
    return list(session.exec(stmt).all())


def overdue_lab_ref(order_id: int) -> str:
    """The follow-up sweep's reference for the task chasing an overdue order's results (the
    lab import closes that task when the results arrive)."""
    return f"sweep:lab:{order_id}"


@dataclass(frozen=True)
class OverdueLab:
    order: LabOrder
    days_late: int


def lab_cutoff(today: date, grace_days: int) -> date:
    """A pending order expected before this date is overdue (the one rule for 'late')."""
    return today - timedelta(days=grace_days)


def late_orders(orders: Sequence[LabOrder], *, today: date, grace_days: int) -> list[OverdueLab]:
    """The overdue ones among these pending orders, in the order given."""
    cutoff = lab_cutoff(today, grace_days)
    return [
        OverdueLab(order=o, days_late=(today - o.expected_on).days)
        for o in orders
        if o.expected_on is not None and o.expected_on < cutoff
    ]


def overdue_labs(*, session: Session, today: date, grace_days: int = 2) -> list[OverdueLab]:
    """Lab orders still awaiting results more than `grace_days` after their expected date."""
    cutoff = lab_cutoff(today, grace_days)
    stmt = (
        select(LabOrder)
        .where(
            col(LabOrder.status).in_(PENDING_LAB_STATUSES),
            col(LabOrder.expected_on).is_not(None),
            col(LabOrder.expected_on) < cutoff,
        )
        .order_by(col(LabOrder.expected_on), col(LabOrder.id))
    )
    return late_orders(session.exec(stmt).all(), today=today, grace_days=grace_days)


def unreviewed_results(*, session: Session) -> list[LabOrder]:
    """Results received but not yet reviewed by a clinician."""
    stmt = (
        select(LabOrder)
        .where(LabOrder.status == LabStatus.RECEIVED)
        .order_by(col(LabOrder.received_on))
    )
    return list(session.exec(stmt).all())


def results_by_order(*, session: Session, orders: Sequence[LabOrder]) -> dict[int, list[LabResult]]:
    """The results of these lab orders, by order id, in entry order (no query for no orders)."""
    results: dict[int, list[LabResult]] = defaultdict(list)
    if orders:
        for r in session.exec(
            select(LabResult)
            .where(col(LabResult.order_id).in_([o.id for o in orders]))
            .order_by(col(LabResult.id))
        ).all():
            results[r.order_id].append(r)
    return dict(results)
