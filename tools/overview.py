"""Today's practice overview: who sees whom, and what is late or due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from db.models import (
    Appointment,
    Practitioner,
    SupplementItem,
    Task,
)
from tools.clock import as_of
from tools.referrals import OverdueReferral, overdue_referrals
from tools.scheduling.agenda import day_appointments
from tools.supplies import OverdueLab, overdue_labs, reorders_due
from tools.tasks import open_tasks


@dataclass(frozen=True)
class PractitionerDay:
    practitioner: Practitioner
    appointments: list[Appointment]

    @property
    def visit_block_parts(self) -> int:
        return sum(a.visit_block_id is not None for a in self.appointments)


@dataclass
class PracticeOverview:
    day: date
    timezone: str
    schedule: list[PractitionerDay]
    overdue_referrals: list[OverdueReferral]
    overdue_labs: list[OverdueLab]
    reorders_due: list[SupplementItem]
    open_tasks: list[Task]
    practitioners: dict[int, Practitioner] = field(default_factory=dict)

    @property
    def overdue_tasks(self) -> list[Task]:
        return [t for t in self.open_tasks if t.due_on is not None and t.due_on < self.day]

    def name(self, practitioner_id: int | None) -> str:
        if practitioner_id is None:
            return "Steve (assistant)"
        p = self.practitioners.get(practitioner_id)
        return p.name if p else f"practitioner {practitioner_id}"


def practice_overview(
    *,
    session: Session,
    day: date,
    tz: ZoneInfo,
    referral_limits: dict[str, int] | None = None,
    lab_grace_days: int = 2,
    reorder_lead_days: int = 7,
    now: datetime | None = None,
) -> PracticeOverview:
    """The practice as of `day` (`now` is the clock's reading; referrals age to that day)."""
    appts = day_appointments(session=session, day=day, tz=tz)
    people = {p.id: p for p in session.exec(select(Practitioner)).all() if p.id is not None}
    by_practitioner: dict[int, list[Appointment]] = {}
    for a in appts:
        by_practitioner.setdefault(a.practitioner_id, []).append(a)
    schedule = [
        PractitionerDay(practitioner=people[pid], appointments=items)
        for pid, items in sorted(by_practitioner.items(), key=lambda kv: people[kv[0]].name)
    ]
    return PracticeOverview(
        day=day,
        timezone=tz.key,
        schedule=schedule,
        overdue_referrals=overdue_referrals(
            session=session, limits=referral_limits, now=as_of(day, tz, now)
        ),
        overdue_labs=overdue_labs(session=session, today=day, grace_days=lab_grace_days),
        reorders_due=reorders_due(session=session, today=day, lead_days=reorder_lead_days),
        open_tasks=open_tasks(session=session, limit=100_000),
        practitioners=people,
    )


def count_rows(*, session: Session, model: type) -> int:
    return int(session.exec(select(func.count()).select_from(model)).one())
