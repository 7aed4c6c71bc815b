"""Eight weeks of appointments (four back, four ahead) and the notes of completed ones.

Diaries are kept in memory as 5-minute occupancy maps per practitioner and day, so no
practitioner is double-booked, no patient is in two places at once, and every appointment
lies inside one working window. Diaries fill up to a share of each day (less in the weeks
ahead, so a demo can still book); patients whose team's diaries are full simply get fewer
appointments, as on a real waiting list. Each care team (~300 patients) has its own
clinicians, so the diaries are about as full in a large practice as in the default one.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from db.models import AppointmentStatus, BillingTrack, Discipline, ElementStatus
from demo.build_state import Context, ElementInfo, PatientInfo, Staff, weighted
from demo.vocab_clinical import CADENCE_DAYS, MODALITIES
from demo.vocab_text import CANCEL_REASONS, NOTE_PHRASES

UNIT = 5  # minutes per diary cell
STEP = 15  # appointments start on the quarter hour
GAP = 10  # minutes between the parts of a visit block
WEEKS_BACK = WEEKS_AHEAD = 4
BANDS = {"morning": (0, 12 * 60), "afternoon": (12 * 60, 24 * 60), "any": (0, 24 * 60)}
# Visit blocks for patients already in a programme, bounded by what a team's diaries hold.
BLOCK_SHARE, MAX_BLOCKS = 0.05, 40
SELF_PAY = (Discipline.MASSAGE, Discipline.HEALTH_COACHING)


@dataclass(frozen=True)
class Part:
    practitioner_id: int
    modality: Discipline
    service: str
    minutes: int


def _slot(minutes: int) -> int:
    """Diary time an appointment takes: the grid slots it blocks, not just its length."""
    return -(-minutes // STEP) * STEP


def fill_share(day: date, today: date) -> float:
    """How full a diary may get: the past was busy, the weeks ahead keep room to book."""
    ahead = (day - today).days
    if ahead <= 0:
        return 0.85
    return 0.8 if ahead <= 7 else 0.7 if ahead <= 14 else 0.55


class Diaries:
    def __init__(self, staff: Staff, today: date) -> None:
        self.windows = staff.windows
        self.today = today
        self.cells: dict[tuple[int, date], bytearray] = {}
        self.room: dict[tuple[int, date], int] = {}  # minutes that may still be booked
        self.failed: dict[tuple[int, date], int] = {}  # shortest length that found no room
        self.patient: dict[tuple[int, date], list[tuple[int, int]]] = {}

    def _free(self, pid: int, day: date, start: int, minutes: int) -> bool:
        if not any(
            ws <= start and start + minutes <= we
            for ws, we in self.windows[pid].get(day.weekday(), ())
        ):
            return False
        cells = self.cells.get((pid, day))
        return cells is None or 1 not in cells[start // UNIT : (start + minutes) // UNIT]

    def _patient_free(self, patient: int, day: date, start: int, end: int) -> bool:
        return all(e <= start or end <= s for s, e in self.patient.get((patient, day), ()))

    def _room(self, pid: int, day: date) -> int:
        key = (pid, day)
        if key not in self.room:
            worked = sum(e - s for s, e in self.windows[pid].get(day.weekday(), ()))
            self.room[key] = int(worked * fill_share(day, self.today))
        return self.room[key]

    def starts(self, pid: int, day: date, minutes: int) -> list[int]:
        """Grid start times at which the practitioner is free for `minutes`."""
        if self.failed.get((pid, day), 10**6) <= minutes:
            return []
        if self._room(pid, day) < _slot(minutes):
            self.failed[(pid, day)] = minutes
            return []
        found = [
            t
            for ws, we in self.windows[pid].get(day.weekday(), ())
            for t in range(-(-ws // STEP) * STEP, we - minutes + 1, STEP)
            if self._free(pid, day, t, minutes)
        ]
        if not found:  # remembered, so a full diary is skipped at once next time
            self.failed[(pid, day)] = min(minutes, self.failed.get((pid, day), 10**6))
        return found

    def fit(
        self, rng: random.Random, patient: PatientInfo, day: date, parts: list[Part]
    ) -> list[int] | None:
        """Start times for the parts in sequence (GAP apart), in the patient's preferred band."""
        first = parts[0]
        options: list[list[int]] = []
        for t in self.starts(first.practitioner_id, day, first.minutes):
            times, clock = [], t
            for part in parts:
                if self._room(part.practitioner_id, day) < _slot(part.minutes) or not self._free(
                    part.practitioner_id, day, clock, part.minutes
                ):
                    break
                times.append(clock)
                clock += part.minutes + GAP
            else:
                if self._patient_free(patient.id, day, t, clock - GAP):
                    options.append(times)
        if not options:
            return None
        low, high = BANDS[patient.band]
        options = [o for o in options if low <= o[0] < high] or options
        # Mostly pack next to what is booked, as receptionists do, which keeps the free
        # time in bookable stretches rather than scattered gaps.
        packed = [o for o in options if self._snug(first.practitioner_id, day, o[0], first.minutes)]
        return rng.choice(packed if packed and rng.random() < 0.85 else options)

    def _snug(self, pid: int, day: date, start: int, minutes: int) -> bool:
        """Whether [start, start + minutes) touches a booking or a window edge (within STEP)."""
        end = start + minutes
        if any(
            start - ws < STEP or we - end < STEP
            for ws, we in self.windows[pid].get(day.weekday(), ())
        ):
            return True
        cells = self.cells.get((pid, day))
        if cells is None:
            return False
        return (
            1 in cells[(start - STEP) // UNIT : start // UNIT]
            or 1 in cells[end // UNIT : (end + STEP) // UNIT]
        )

    def book(self, patient: int, day: date, pid: int, start: int, minutes: int) -> None:
        self.room[(pid, day)] = self._room(pid, day) - _slot(minutes)
        cells = self.cells.setdefault((pid, day), bytearray(24 * 60 // UNIT))
        cells[start // UNIT : (start + minutes) // UNIT] = b"\x01" * (minutes // UNIT)
        self.patient.setdefault((patient, day), []).append((start, start + minutes))


class Scheduler:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("appointments")
        self.note_rng = ctx.rng("notes")
        self.staff = ctx.get_staff()
        self.diaries = Diaries(self.staff, ctx.today)
        self.first = ctx.today - timedelta(weeks=WEEKS_BACK)
        self.last = ctx.today + timedelta(weeks=WEEKS_AHEAD) - timedelta(days=1)
        # (patient, practitioner) -> days already booked, so a series does not double up.
        self.seen: dict[tuple[int, int], list[date]] = {}

    # ------------------------------------------------------------------ booking

    def _status(self, day: date, start: int) -> AppointmentStatus:
        if day < self.ctx.today:
            return weighted(
                self.rng,
                {
                    AppointmentStatus.COMPLETED: 86,
                    AppointmentStatus.CANCELLED: 8,
                    AppointmentStatus.NO_SHOW: 6,
                },
            )
        if day == self.ctx.today:
            return AppointmentStatus.ARRIVED if start <= 9 * 60 + 30 else AppointmentStatus.BOOKED
        return weighted(self.rng, {AppointmentStatus.BOOKED: 95, AppointmentStatus.CANCELLED: 5})

    def _book(
        self,
        patient: PatientInfo,
        day: date,
        parts: list[Part],
        times: list[int],
        status: AppointmentStatus,
        block: str | None,
    ) -> None:
        ctx, rng = self.ctx, self.rng
        booked_on = min(day - timedelta(days=rng.randrange(2, 40)), ctx.today)
        created = ctx.moment(rng, booked_on)
        # A block is cancelled as a whole, for one reason, at one moment.
        reason = rng.choice(CANCEL_REASONS) if status == AppointmentStatus.CANCELLED else None
        cancelled_at = ctx.later(
            rng,
            created,
            60,
            max(120, int((min(ctx.now, ctx.local(day, times[0])) - created).total_seconds() // 60)),
        )
        for part, start in zip(parts, times, strict=True):
            self.diaries.book(patient.id, day, part.practitioner_id, start, part.minutes)
            self.seen.setdefault((patient.id, part.practitioner_id), []).append(day)
            starts_at = ctx.local(day, start)
            ends_at = ctx.local(day, start + part.minutes)
            billing = patient.billing
            if billing == BillingTrack.INSURANCE and part.modality in SELF_PAY:
                billing = BillingTrack.DIRECT_PAY
            updated = created
            if status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
                updated = ends_at + timedelta(minutes=rng.randrange(5, 60))
            elif status == AppointmentStatus.CANCELLED:
                updated = cancelled_at
            elif status == AppointmentStatus.ARRIVED:
                updated = min(ctx.now, starts_at - timedelta(minutes=rng.randrange(2, 15)))
            appointment_id = ctx.add(
                "appointment",
                {
                    "practitioner_id": part.practitioner_id,
                    "patient_id": patient.id,
                    "service_type": part.service,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "status": status.value,
                    "billing_track": billing.value,
                    "visit_block_id": block,
                    "cancel_reason": reason,
                    "created_at": created,
                    "updated_at": updated,
                },
            )
            if status == AppointmentStatus.COMPLETED and self.note_rng.random() < 0.95:
                self._note(patient, part, appointment_id, ends_at)

    def _note(self, patient: PatientInfo, part: Part, appointment_id: int, ended: datetime) -> None:
        rng = self.note_rng
        subjective, objective, plan = NOTE_PHRASES[part.modality]
        goal = next((e.goal for e in patient.elements if e.modality == part.modality), "")
        fill = {
            "condition": rng.choice(patient.conditions).name.lower(),
            "goal": goal,
            "supplement": rng.choice(patient.supplements)[1]
            if patient.supplements
            else "the current plan",
        }
        body = " ".join(rng.choice(bank).format(**fill) for bank in (subjective, objective, plan))
        self.ctx.add(
            "clinical_note",
            {
                "patient_id": patient.id,
                "practitioner_id": part.practitioner_id,
                "modality": part.modality.value,
                "appointment_id": appointment_id,
                "written_at": ended + timedelta(minutes=rng.randrange(5, 180)),
                "title": part.service.capitalize(),
                "body": body,
                "origin": "internal",
                "updated_at": ended + timedelta(minutes=rng.randrange(180, 240)),
            },
        )

    def _try(
        self,
        patient: PatientInfo,
        days: list[date],
        parts: list[Part],
        block: bool = False,
        status: AppointmentStatus | None = None,
    ) -> date | None:
        for day in days:
            if not self.first <= day <= self.last:
                continue
            times = self.diaries.fit(self.rng, patient, day, parts)
            if times is None:
                continue
            status = status or self._status(day, times[0])
            block_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4)) if block else None
            self._book(patient, day, parts, times, status, block_id)
            return day
        return None

    # ------------------------------------------------------------------ the plan

    def run(self) -> None:
        patients = self.ctx.patients
        new = [p for p in patients if p.is_new]
        for patient in new:
            self._first_visit(patient)
        regulars = [p for p in patients if not p.is_new]
        wanted, made = self._block_count(), 0
        # A couple of blocks today per team, so the overview and briefings show one.
        today_wanted = 2 * len(self.staff.teams)
        for patient in self.rng.sample(regulars, min(len(regulars), 30 * len(self.staff.teams))):
            if made >= today_wanted:
                break
            made += self._block(patient, on=[self.ctx.today])
        for patient in self.rng.sample(regulars, len(regulars)):
            if made >= wanted:
                break
            made += self._block(patient)
        order = list(regulars)
        self.rng.shuffle(order)  # who gets the last free slots is down to chance
        for n, patient in enumerate(order, 1):
            for element in patient.elements:
                if element.status == ElementStatus.ACTIVE:
                    self._series(patient, element)
            if n % 1000 == 0 or n == len(order):
                self.ctx.report("appointments", n, len(order))

    def _block_count(self) -> int:
        cap = MAX_BLOCKS * len(self.staff.teams)
        return min(cap, max(2, round(len(self.ctx.patients) * BLOCK_SHARE)))

    def _part(self, element: ElementInfo, first: bool = False) -> Part:
        spec = MODALITIES[element.modality]
        return Part(
            element.practitioner_id,
            element.modality,
            spec.first_service if first else spec.service,
            spec.first_minutes if first else spec.minutes,
        )

    def _first_visit(self, patient: PatientInfo) -> None:
        """A new patient's first consultation, often as a block with other planned elements."""
        rng, today = self.rng, self.ctx.today
        lead = next((e for e in patient.elements if e.modality == Discipline.PHYSICIAN), None)
        physician = Part(
            patient.physician_id,
            Discipline.PHYSICIAN,
            MODALITIES[Discipline.PHYSICIAN].first_service,
            MODALITIES[Discipline.PHYSICIAN].first_minutes,
        )
        others = [e for e in patient.elements if e.modality != Discipline.PHYSICIAN]
        joining = rng.sample(others, min(2, len(others))) if rng.random() < 0.6 else []
        days = [today + timedelta(days=d) for d in range(1, 22)]
        booked = AppointmentStatus.BOOKED  # the visit the intake form is for: not cancelled
        parts = [physician, *(self._part(e, first=True) for e in joining)]
        day = self._try(patient, days, parts, True, booked) if joining else None
        if day is None:
            joining = []
            day = self._try(patient, days, [physician], status=booked)
        if day is None:
            return  # on the waiting list: no room with the physician in three weeks
        # The elements start with the visit that was actually booked.
        for element in [lead, *joining]:
            if element is not None:
                self.ctx.rows["programme_element"][element.id - 1]["started_on"] = day
                element.started_on = day

    def _block(self, patient: PatientInfo, on: list[date] | None = None) -> bool:
        """Two or three of the patient's active elements on one day, back to back."""
        active = [e for e in patient.elements if e.status == ElementStatus.ACTIVE]
        if len(active) < 2:
            return False
        chosen = self.rng.sample(active, min(len(active), self.rng.choice((2, 2, 3))))
        parts = [self._part(e) for e in chosen]
        if on is not None:
            return self._try(patient, on, parts, block=True) is not None
        days = [self.first + timedelta(days=d) for d in range((self.last - self.first).days + 1)]
        self.rng.shuffle(days)
        return self._try(patient, days[:20], parts, block=True) is not None

    def _series(self, patient: PatientInfo, element: ElementInfo) -> None:
        """Appointments every `cadence` on a steady weekday the practitioner works."""
        rng = self.rng
        interval = CADENCE_DAYS[element.cadence]
        worked = sorted(self.staff.windows[element.practitioner_id])
        if not worked:
            return
        start = max(self.first, element.started_on)
        weekday = rng.choice(worked)
        day = start + timedelta(
            days=(weekday - start.weekday()) % 7 + 7 * rng.randrange(max(1, interval // 7))
        )
        part = self._part(element)
        booked = self.seen.get((patient.id, element.practitioner_id), [])
        while day <= self.last:
            if not any(abs((day - b).days) < interval / 2 for b in booked):
                near = [day + timedelta(days=d) for d in (0, 1, -1, 2, -2)]
                self._try(patient, [d for d in near if d >= start], [part])
                booked = self.seen.get((patient.id, element.practitioner_id), [])
            day += timedelta(days=interval)


def generate_appointments(ctx: Context) -> None:
    Scheduler(ctx).run()
