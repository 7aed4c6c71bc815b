"""The practice overview, printed by `steve demo` and `steve overview`."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.cli.common import (
    DATE_OPTION,
    JSON_OPTION,
    console,
    emit_json,
    handle_errors,
    settings,
    table,
    today,
    transaction,
)
from tools.overview import PracticeOverview, practice_overview


def overview_data(ov: PracticeOverview) -> dict[str, Any]:
    tz = settings().zone
    return {
        "day": ov.day.isoformat(),
        "timezone": ov.timezone,
        "schedule": [
            {
                "practitioner_id": d.practitioner.id,
                "practitioner": d.practitioner.name,
                "discipline": str(d.practitioner.discipline),
                "appointments": len(d.appointments),
                "first": f"{d.appointments[0].starts_at.astimezone(tz):%H:%M}",
                "last_ends": f"{d.appointments[-1].ends_at.astimezone(tz):%H:%M}",
                "visit_block_parts": d.visit_block_parts,
            }
            for d in ov.schedule
        ],
        "overdue_referrals": [
            {
                "id": o.referral.id,
                "status": str(o.referral.status),
                "days_in_state": o.days_in_state,
                "limit_days": o.limit_days,
                "to": ov.name(o.referral.to_practitioner_id),
            }
            for o in ov.overdue_referrals
        ],
        "overdue_labs": [
            {
                "id": o.order.id,
                "lab": o.order.lab,
                "panel": o.order.panel,
                "expected_on": str(o.order.expected_on),
                "days_late": o.days_late,
            }
            for o in ov.overdue_labs
        ],
        "reorders_due": [
            {
                "id": s.id,
                "product": s.product,
                "supplier": s.supplier,
                "reorder_on": str(s.reorder_on),
            }
            for s in ov.reorders_due
        ],
        "open_tasks": len(ov.open_tasks),
        "overdue_tasks": len(ov.overdue_tasks),
    }


def print_overview(ov: PracticeOverview) -> None:
    data = overview_data(ov)
    console.rule(f"Practice overview for {ov.day:%A %d %B %Y} ({ov.timezone})")
    sched = data["schedule"]
    if sched:
        console.print(
            table(
                f"Appointments today: {sum(r['appointments'] for r in sched)}",
                ["practitioner", "discipline", "appointments", "from", "until", "in visit blocks"],
                [
                    [
                        r["practitioner"],
                        r["discipline"],
                        r["appointments"],
                        r["first"],
                        r["last_ends"],
                        r["visit_block_parts"],
                    ]
                    for r in sched
                ],
            )
        )
    else:
        console.print("No appointments today.")
    console.print(
        table(
            f"Overdue referrals: {len(ov.overdue_referrals)} (most overdue first, 10 shown)",
            ["id", "state", "days in state", "limit", "to"],
            [
                [r["id"], r["status"], r["days_in_state"], r["limit_days"], r["to"]]
                for r in data["overdue_referrals"][:10]
            ],
        )
    )
    console.print(
        table(
            f"Overdue lab results: {len(ov.overdue_labs)} (10 shown)",
            ["order", "lab", "panel", "expected", "days late"],
            [
                [r["id"], r["lab"], r["panel"], r["expected_on"], r["days_late"]]
                for r in data["overdue_labs"][:10]
            ],
        )
    )
    console.print(
        table(
            f"Supplement reorders due: {len(ov.reorders_due)} (10 shown)",
            ["item", "product", "supplier", "reorder by"],
            [
                [r["id"], r["product"], r["supplier"], r["reorder_on"]]
                for r in data["reorders_due"][:10]
            ],
        )
    )
    by_person: dict[int, list[int]] = {}
    for t in ov.open_tasks:
        counts = by_person.setdefault(t.assignee_id, [0, 0])
        counts[0] += 1
        counts[1] += bool(t.due_on and t.due_on < ov.day)
    console.print(
        table(
            f"Open tasks: {len(ov.open_tasks)}, overdue: {len(ov.overdue_tasks)}",
            ["assignee", "open", "overdue"],
            [
                [ov.name(pid), c[0], c[1]]
                for pid, c in sorted(by_person.items(), key=lambda kv: -kv[1][0])
            ],
        )
    )


def load_overview(day: date) -> PracticeOverview:
    s = settings()
    with transaction() as session:
        return practice_overview(
            session=session,
            day=day,
            tz=s.zone,
            referral_limits=s.limits.referral_overdue_days,
            lab_grace_days=s.limits.lab_overdue_grace_days,
            reorder_lead_days=s.limits.reorder_lead_days,
        )


@handle_errors
def overview(
    day: str | None = DATE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Today's practice overview: appointments, overdue referrals and labs, reorders, tasks."""
    when = today(day)
    ov = load_overview(when)
    if as_json:
        emit_json(overview_data(ov))
    else:
        print_overview(ov)
