"""Supplement protocols with stock and reorder dates, and specialist lab orders with results."""

from __future__ import annotations

import random
from datetime import date, timedelta

from db.models import Discipline, LabFlag, LabStatus, SupplementStatus
from demo.build_state import Context, PatientInfo, weighted
from demo.vocab_labs import PANELS, SUPPLEMENTS, SUPPLIERS, Analyte

REORDER_LEAD_DAYS = 7  # reorder a week before the patient runs out


def generate_supplements(ctx: Context) -> None:
    rng = ctx.rng("supplements")
    staff = ctx.get_staff()
    today = ctx.today
    n = 0
    for patient in ctx.patients:
        nutrition = staff.team(patient).by_discipline[Discipline.NUTRITIONAL_THERAPY]
        wanted: list[str] = []
        for condition in patient.conditions:
            wanted += [s for s in condition.supplements if s not in wanted]
        k = weighted(rng, {0: 10, 1: 15, 2: 25, 3: 25, 4: 15, 5: 10})
        picks = rng.sample(wanted, min(k, len(wanted)))
        started_from = today - timedelta(days=120 if not patient.is_new else 0)
        for key in picks:
            spec = SUPPLEMENTS[key]
            started = (
                started_from + timedelta(days=rng.randrange(0, 100))
                if not patient.is_new
                else today - timedelta(days=rng.randrange(0, 5))
            )
            started = min(started, today)
            stopped = rng.random() < 0.12 and not patient.is_new
            quantity: int | None = None
            reorder: date | None = None
            if not stopped and rng.random() < 0.85:  # the rest buy their own
                # The first few run low, so even a small demo has reorders due.
                quantity = rng.randrange(0, spec.pack + 1 if n >= 3 else 10 * spec.per_day)
                n += 1
                reorder = today + timedelta(days=quantity // spec.per_day - REORDER_LEAD_DAYS)
            item_id = ctx.add(
                "supplement_item",
                {
                    "patient_id": patient.id,
                    "programme_id": patient.programme_id,
                    "product": spec.product,
                    "dose": spec.dose,
                    "frequency": spec.frequency,
                    "started_on": started,
                    "stopped_on": today - timedelta(days=rng.randrange(1, 30)) if stopped else None,
                    "prescriber_id": patient.physician_id
                    if rng.random() < 0.6
                    else rng.choice(nutrition),
                    "supplier": rng.choice(SUPPLIERS),
                    "quantity_on_hand": quantity,
                    "reorder_on": reorder,
                    "status": (
                        SupplementStatus.STOPPED if stopped else SupplementStatus.ACTIVE
                    ).value,
                    "updated_at": ctx.moment(rng, today - timedelta(days=rng.randrange(0, 30))),
                },
            )
            if not stopped:
                patient.supplements.append((item_id, spec.product))
    ctx.report("supplements", 1, 1)


def _value(rng: random.Random, a: Analyte, abnormal: bool, critical: bool) -> dict[str, object]:
    """A result row's value fields and flag for one analyte."""
    if a.normal_text is not None:
        return {
            "value": None,
            "value_text": a.abnormal_text if abnormal else a.normal_text,
            "ref_text": a.normal_text,
            "flag": (LabFlag.ABNORMAL if abnormal else LabFlag.NORMAL).value,
        }
    low, high = a.low, a.high
    if critical and a.critical_low is not None:
        value = a.critical_low * rng.uniform(0.4, 0.95)
    elif critical and a.critical_high is not None:
        value = a.critical_high * rng.uniform(1.05, 1.6)
    elif low is not None and high is not None:
        if abnormal:
            value = (
                low * rng.uniform(0.5, 0.95)
                if rng.random() < 0.5
                else high * rng.uniform(1.05, 1.8)
            )
        else:
            value = rng.uniform(low, high)
    elif high is not None:
        value = high * (rng.uniform(1.1, 3.0) if abnormal else rng.uniform(0.1, 0.95))
    else:
        assert low is not None
        value = low * (rng.uniform(0.3, 0.95) if abnormal else rng.uniform(1.05, 3.0))
    value = round(value, a.decimals)
    flag = LabFlag.NORMAL
    if low is not None and value < low:
        flag = LabFlag.LOW
    elif high is not None and value > high:
        flag = LabFlag.HIGH
    if (a.critical_low is not None and value < a.critical_low) or (
        a.critical_high is not None and value > a.critical_high
    ):
        flag = LabFlag.CRITICAL
    if low is not None and high is not None:
        ref_text = f"{low:g}-{high:g}"
    else:
        ref_text = f"<{high:g}" if high is not None else f">{low:g}"
    return {"value": value, "value_text": None, "ref_text": ref_text, "flag": flag.value}


# The first orders cover every state, two of them overdue, so even a small demo has them.
COVERAGE = ("overdue", "overdue", "received", "reviewed", "cancelled", "pending")


def generate_labs(ctx: Context) -> None:
    rng = ctx.rng("labs")
    staff = ctx.get_staff()
    n = 0
    for patient in ctx.patients:
        nutrition = staff.team(patient).by_discipline[Discipline.NUTRITIONAL_THERAPY]
        wanted = list(dict.fromkeys(p for c in patient.conditions for p in c.panels))
        k = weighted(rng, {0: 30, 1: 40, 2: 22, 3: 8})
        if n < len(COVERAGE):
            k = max(k, 1)
        for key in rng.sample(wanted, min(k, len(wanted))):
            kind = (
                COVERAGE[n]
                if n < len(COVERAGE)
                else weighted(
                    rng,
                    {
                        "pending": 18,
                        "overdue": 10,
                        "received": 20,
                        "reviewed": 42,
                        "cancelled": 10,
                    },
                )
            )
            _order(ctx, rng, patient, key, kind, nutrition, force_abnormal=n < len(COVERAGE))
            n += 1
    ctx.report("labs", n, n)


def _order(
    ctx: Context,
    rng: random.Random,
    patient: PatientInfo,
    key: str,
    kind: str,
    nutrition: list[int],
    force_abnormal: bool,
) -> None:
    today = ctx.today
    panel = PANELS[key]
    lo, hi = panel.turnaround
    turnaround = rng.randint(lo, hi)
    orderer = patient.physician_id
    if key in ("stool", "food", "oat", "sibo") and rng.random() < 0.3:
        orderer = rng.choice(nutrition)
    received: date | None = None
    reviewer: int | None = None
    if kind == "pending":  # results not due yet
        ordered = today - timedelta(days=rng.randrange(0, hi))
        expected = ordered + timedelta(days=hi)
        status = LabStatus.ORDERED if today - ordered < timedelta(days=4) else LabStatus.COLLECTED
    elif kind == "overdue":  # due more than the two-day grace ago and still not back
        ordered = today - timedelta(days=hi + rng.randint(4, 25))
        expected = ordered + timedelta(days=hi)
        status = LabStatus.ORDERED if rng.random() < 0.4 else LabStatus.COLLECTED
    elif kind == "cancelled":
        ordered = today - timedelta(days=rng.randrange(5, 120))
        expected = ordered + timedelta(days=hi)
        status = LabStatus.CANCELLED
    else:
        back = rng.randint(0, 12) if kind == "received" else rng.randint(5, 150)
        received = today - timedelta(days=back)
        ordered = received - timedelta(days=turnaround)
        expected = ordered + timedelta(days=hi)
        status = LabStatus.RECEIVED if kind == "received" else LabStatus.REVIEWED
        if status == LabStatus.REVIEWED:
            reviewer = patient.physician_id
    order_id = ctx.add(
        "lab_order",
        {
            "patient_id": patient.id,
            "ordered_by_id": orderer,
            "lab": rng.choice(panel.labs),
            "panel": panel.name,
            "ordered_on": ordered,
            "expected_on": expected,
            "received_on": received,
            "status": status.value,
            "reviewed_by_id": reviewer,
        },
    )
    patient.labs.append((order_id, status.value))
    if received is None:
        return
    forced = rng.randrange(len(panel.analytes)) if force_abnormal else -1
    for i, analyte in enumerate(panel.analytes):
        abnormal = i == forced or rng.random() < 0.2
        critical = abnormal and rng.random() < 0.04
        ctx.add(
            "lab_result",
            {
                "order_id": order_id,
                "patient_id": patient.id,
                "analyte": analyte.name,
                "unit": analyte.unit,
                "ref_low": analyte.low,
                "ref_high": analyte.high,
                "resulted_on": received,
                **_value(rng, analyte, abnormal, critical),
            },
        )
