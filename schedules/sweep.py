"""The follow-up sweep: the practice's loose ends become tasks for the right person.

Each loose end is an item with a stable reference (`source_ref`, prefixed 'sweep:'): an
overdue referral (in its current state), an overdue lab result, a missing or unreviewed
intake form before a first visit, an unacknowledged care-team message older than the limit,
a supplement reorder due. An item gets one open task, never two; when the item is no longer
found (resolved), its open task is closed by the sweep. Task titles carry record ids, not
names: task lists are shown widely. Two sweeps at once (the scheduler and a hand-run) are
serialised by a transaction-scoped lock, so neither can add a duplicate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session, col, select

from db.engine import utcnow
from db.models import (
    Affiliation,
    Appointment,
    AppointmentStatus,
    Discipline,
    IntakeForm,
    Patient,
    Practitioner,
    PractitionerStatus,
    ReferralDirection,
    Task,
    TaskCreate,
)
from db.models.enums import OPEN_TASK_STATUSES
from schedules.config import ServiceSettings
from tools.care import unacknowledged_messages
from tools.clock import today_in
from tools.referrals import overdue_referrals
from tools.supplies import overdue_lab_ref, overdue_labs, reorders_due
from tools.tasks import complete_task, create_task

PREFIX = "sweep:"
ACTOR = "steve-sweep"
_LOCK_KEY = 0x5354_4556_4553_5750  # 'STEVESWP': the sweep's advisory lock
_NOT_HELD = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


@dataclass(frozen=True)
class Item:
    ref: str
    kind: str
    assignee_id: int
    title: str
    patient_id: int | None = None
    due_on: date | None = None


@dataclass
class SweepReport:
    found: Counter[str] = field(default_factory=Counter)
    created: Counter[str] = field(default_factory=Counter)
    closed: int = 0
    unassignable: int = 0  # nobody in-house could take it (the practice has no active staff)

    def counts(self) -> dict[str, int]:
        return {
            "items": sum(self.found.values()),
            "created": sum(self.created.values()),
            "closed": self.closed,
            "unassignable": self.unassignable,
            **{f"created_{k}": v for k, v in sorted(self.created.items())},
        }


def serialise(session: Session) -> None:
    """Hold the sweep lock until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    else:
        # SQLite: any write statement takes the database's write lock for the transaction.
        session.execute(text("UPDATE job_run SET id = id WHERE id = -1"))


class _People:
    """Who can take a task: active in-house staff, with fall-backs for everything else."""

    def __init__(self, session: Session) -> None:
        staff = session.exec(
            select(Practitioner).where(
                Practitioner.affiliation == Affiliation.IN_HOUSE,
                Practitioner.status == PractitionerStatus.ACTIVE,
            )
        ).all()
        self.active = {p.id: p for p in staff if p.id is not None}
        ordered = sorted(self.active.values(), key=lambda p: p.id or 0)
        self.admin = next((p.id for p in ordered if p.discipline == Discipline.ADMIN), None)
        self.physician = next((p.id for p in ordered if p.discipline == Discipline.PHYSICIAN), None)

    def pick(self, *candidates: int | None) -> int | None:
        for c in candidates:
            if c is not None and c in self.active:
                return c
        return self.admin or self.physician


def _primary(session: Session, patient_ids: set[int]) -> dict[int, int | None]:
    if not patient_ids:
        return {}
    rows = session.exec(
        select(Patient.id, Patient.primary_physician_id).where(col(Patient.id).in_(patient_ids))
    ).all()
    return {pid: doc for pid, doc in rows if pid is not None}


def _intake_items(
    session: Session, people: _People, now: datetime, lookahead_days: int, zone: ZoneInfo
) -> list[tuple[str, str, list[int | None], int, date]]:
    """(ref, title, candidates, patient, visit day) for first visits lacking a reviewed form."""
    upcoming = session.exec(
        select(Appointment)
        .where(
            col(Appointment.starts_at) >= now,
            col(Appointment.starts_at) < now + timedelta(days=lookahead_days + 1),
            col(Appointment.status) == AppointmentStatus.BOOKED,
        )
        .order_by(col(Appointment.starts_at))
    ).all()
    first: dict[int, Appointment] = {}
    for appt in upcoming:
        first.setdefault(appt.patient_id, appt)
    if not first:
        return []
    seen_before = set(
        session.exec(
            select(Appointment.patient_id).where(
                col(Appointment.patient_id).in_(list(first)),
                col(Appointment.starts_at) < now,
                col(Appointment.status).not_in(_NOT_HELD),
            )
        ).all()
    )
    forms: dict[int, list[IntakeForm]] = {}
    for form in session.exec(
        select(IntakeForm).where(col(IntakeForm.patient_id).in_(list(first)))
    ).all():
        forms.setdefault(form.patient_id, []).append(form)
    out = []
    for patient_id, appt in first.items():
        if patient_id in seen_before:
            continue
        visit = appt.starts_at.astimezone(zone).date()
        received = [f for f in forms.get(patient_id, []) if f.received_at is not None]
        if not received:
            out.append(
                (
                    f"{PREFIX}intake-missing:{patient_id}",
                    f"Intake form missing for patient {patient_id} before their first visit",
                    [people.admin, appt.practitioner_id],
                    patient_id,
                    visit,
                )
            )
        for form in received:
            if form.reviewed_at is None:
                out.append(
                    (
                        f"{PREFIX}intake-review:{form.id}",
                        f"Review intake form {form.id} (patient {patient_id}) before the visit",
                        [appt.practitioner_id],
                        patient_id,
                        visit,
                    )
                )
    return out


def find_items(
    *, session: Session, settings: ServiceSettings, now: datetime
) -> tuple[list[Item], int]:
    """Every loose end as it stands now; (items, how many nobody could take)."""
    people = _People(session)
    today = today_in(settings.zone, now)
    limits, schedule = settings.limits, settings.schedule
    raw: list[tuple[str, str, str, list[int | None], int | None, date | None]] = []
    for o in overdue_referrals(session=session, limits=limits.referral_overdue_days, now=now):
        r = o.referral
        ours = (
            r.from_practitioner_id
            if r.direction == ReferralDirection.OUTBOUND
            else (r.to_practitioner_id)
        )
        raw.append(
            (
                f"{PREFIX}referral:{r.id}:{r.status}",
                "referral",
                f"Chase referral {r.id}: {o.days_in_state} days {r.status} (limit {o.limit_days})",
                [ours],
                r.patient_id,
                today,
            )
        )
    for lab in overdue_labs(session=session, today=today, grace_days=limits.lab_overdue_grace_days):
        order = lab.order
        raw.append(
            (
                overdue_lab_ref(order.id or 0),
                "lab",
                f"Chase lab order {order.id}: results {lab.days_late} days late",
                [order.ordered_by_id],
                order.patient_id,
                today,
            )
        )
    for ref, title, candidates, patient_id, visit in _intake_items(
        session, people, now, schedule.intake_lookahead_days, settings.zone
    ):
        raw.append((ref, "intake", title, candidates, patient_id, visit))
    cutoff = now - timedelta(hours=schedule.message_ack_hours)
    for m in unacknowledged_messages(session=session, older_than=cutoff, limit=100_000):
        raw.append(
            (
                f"{PREFIX}message:{m.id}",
                "message",
                f"Acknowledge care-team message {m.id} "
                f"(waiting over {schedule.message_ack_hours} h)",
                [m.recipient_id],
                m.patient_id,
                today,
            )
        )
    reorders = reorders_due(session=session, today=today, lead_days=limits.reorder_lead_days)
    primary = _primary(session, {s.patient_id for s in reorders})
    for s in reorders:
        raw.append(
            (
                f"{PREFIX}reorder:{s.id}",
                "reorder",
                f"Supplement reorder due for item {s.id} (patient {s.patient_id})",
                [s.prescriber_id, primary.get(s.patient_id)],
                s.patient_id,
                s.reorder_on,
            )
        )
    items: list[Item] = []
    unassignable = 0
    for ref, kind, title, candidates, patient, due in raw:
        assignee = people.pick(*candidates)
        if assignee is None:
            unassignable += 1
            continue
        items.append(Item(ref, kind, assignee, title, patient, due))
    return items, unassignable


def run_sweep(
    *, session: Session, settings: ServiceSettings, now: datetime | None = None
) -> SweepReport:
    """One sweep in the caller's transaction: open the missing tasks, close the resolved."""
    now = now or utcnow()
    serialise(session)
    report = SweepReport()
    items, report.unassignable = find_items(session=session, settings=settings, now=now)
    open_tasks = {
        t.source_ref: t
        for t in session.exec(
            select(Task).where(
                col(Task.source_ref).startswith(PREFIX), col(Task.status).in_(OPEN_TASK_STATUSES)
            )
        ).all()
    }
    current = set()
    for item in items:
        report.found[item.kind] += 1
        current.add(item.ref)
        if item.ref in open_tasks:
            continue
        create_task(
            session=session,
            data=TaskCreate(
                title=item.title,
                clinical=False,  # titles carry record ids only
                assignee_id=item.assignee_id,
                patient_id=item.patient_id,
                due_on=item.due_on,
            ),
            source_ref=item.ref,
            now=now,
            actor=ACTOR,
        )
        open_tasks[item.ref] = None  # type: ignore[assignment]  # an item listed twice: once
        report.created[item.kind] += 1
    for ref, task in open_tasks.items():
        if ref is None or ref in current or task is None or task.id is None:
            continue
        complete_task(session=session, task_id=task.id, now=now, actor=ACTOR)
        report.closed += 1
    return report
