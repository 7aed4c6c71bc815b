"""Shared state of one demo generation: seeded random streams, rows per table, id counters,
and the facts later stages need about staff and patients."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from db.models import BillingTrack, Discipline, ElementStatus
from demo.vocab_clinical import Condition
from tools.clock import at_local

Progress = Callable[[str, int, int], None]


@dataclass
class ElementInfo:
    id: int
    modality: Discipline
    practitioner_id: int
    cadence: str
    status: ElementStatus
    started_on: date
    goal: str


@dataclass
class PatientInfo:
    id: int
    sex: str
    conditions: list[Condition]
    physician_id: int
    programme_id: int
    billing: BillingTrack
    is_new: bool
    band: str  # preferred time of day: "morning", "afternoon" or "any"
    elements: list[ElementInfo] = field(default_factory=list)
    medications: list[tuple[int, str]] = field(default_factory=list)  # (id, name), current
    supplements: list[tuple[int, str]] = field(default_factory=list)  # (id, product), active
    labs: list[tuple[int, str]] = field(default_factory=list)  # (id, status)
    referrals: list[int] = field(default_factory=list)
    intake: list[tuple[int, bool]] = field(default_factory=list)  # (id, received)
    team: int = 0  # index into Staff.teams: the care team that looks after the patient


@dataclass
class Team:
    """One care team: the clinicians a patient's physician and programme elements come from,
    and the admin staff who handle its tasks. Team 0 is the practice's original team."""

    physicians: list[int]
    admins: list[int]
    by_discipline: dict[Discipline, list[int]]  # in-house clinicians, physicians included


@dataclass
class Staff:
    # Practice-wide, in id order (team 0 first); patients draw on their own team's people.
    physicians: list[int]
    admins: list[int]
    by_discipline: dict[Discipline, list[int]]  # in-house clinicians
    # practitioner -> weekday -> working windows in local minutes since midnight
    windows: dict[int, dict[int, list[tuple[int, int]]]]
    externals: list[tuple[int, Discipline, str]]  # (id, discipline, status)
    names: dict[int, str]
    teams: list[Team] = field(default_factory=list)
    invented: set[str] = field(default_factory=set)  # name keys of extra teams' staff

    def team(self, patient: PatientInfo) -> Team:
        return self.teams[patient.team]


class Context:
    """Rows are plain dicts with explicit ids, written in bulk at the end."""

    def __init__(self, *, seed: int, today: date, tz: ZoneInfo, progress: Progress | None) -> None:
        self.seed = seed
        self.today = today
        self.tz = tz
        # The moment the demo describes: a weekday morning before the clinic is busy.
        self.now = at_local(today, time(9, 30), tz)
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._next_id: dict[str, int] = defaultdict(lambda: 1)
        self._progress = progress
        self.staff: Staff | None = None
        self.patients: list[PatientInfo] = []

    def rng(self, stream: str) -> random.Random:
        """An independent stream per stage, so changing one stage leaves the others alone."""
        return random.Random(f"steve-demo:{self.seed}:{stream}")

    def add(self, table: str, row: dict[str, Any]) -> int:
        ident = self._next_id[table]
        self._next_id[table] = ident + 1
        row["id"] = ident
        self.rows[table].append(row)
        return ident

    def report(self, stage: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(stage, done, total)

    def local(self, day: date, minutes: int) -> datetime:
        """Local minutes since midnight on `day`, as an aware UTC datetime."""
        return at_local(day, time(minutes // 60, minutes % 60), self.tz)

    def moment(self, rng: random.Random, day: date, *, latest: datetime | None = None) -> datetime:
        """A plausible office-hours instant on `day`, never after `latest` (default: now)."""
        latest = latest or self.now
        stamp = self.local(day, rng.randrange(8 * 60, 18 * 60))
        if stamp > latest:
            stamp = latest - timedelta(minutes=rng.randrange(1, 90))
        return stamp

    def later(self, rng: random.Random, start: datetime, low: int, high: int) -> datetime:
        """Office hours `low`-`high` minutes after `start` (a late hour moves to the next
        morning), but never after now: when staff acknowledge, review or finish things."""
        stamp = start + timedelta(minutes=rng.randrange(low, high))
        local = stamp.astimezone(self.tz)
        if not 8 <= local.hour < 19:
            day = local.date() + timedelta(days=1 if local.hour >= 19 else 0)
            stamp = self.local(day, 8 * 60 + rng.randrange(0, 90))
        return max(start, min(stamp, self.now))

    def get_staff(self) -> Staff:
        assert self.staff is not None, "staff are generated first"
        return self.staff


def weighted(rng: random.Random, options: dict[Any, float]) -> Any:
    return rng.choices(list(options), weights=list(options.values()))[0]
