"""Referrals in and out of the practice in every lifecycle state, with a consistent history.

Each referral walks a legal path of tools.referrals.TRANSITIONS; its stamps are laid out
backwards from the time of its last transition, so sent_at <= accepted_at <= ... and
status_changed_at is the last of them. Some open ones are kept past their overdue limit.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from db.models import Discipline, ReferralDirection, ReferralStatus, Urgency
from demo.build_state import Context, PatientInfo, weighted
from demo.vocab_text import (
    INBOUND_REASONS,
    INJECTED_REPORT,
    OUTCOME_NOTES,
    REFERRAL_REASONS,
    REPORT_BODIES,
)
from tools.referrals import STAMP_COLUMN, TRANSITIONS, overdue_limit

S = ReferralStatus
MAIN = (S.DRAFT, S.SENT, S.ACCEPTED, S.SCHEDULED, S.SEEN, S.REPORT_RECEIVED, S.CLOSED)
OPEN = (S.DRAFT, S.SENT, S.ACCEPTED, S.SCHEDULED, S.SEEN, S.REPORT_RECEIVED)
# Days it usually takes to reach a state from the one before.
GAP_DAYS = {
    S.SENT: (0, 3),
    S.ACCEPTED: (1, 10),
    S.SCHEDULED: (1, 14),
    S.SEEN: (5, 40),
    S.REPORT_RECEIVED: (3, 25),
    S.CLOSED: (0, 10),
    S.DECLINED: (1, 10),
}
DECLINE_NOTES = (
    "Not taking new referrals at present.",
    "Outside our scope; suggest the NHS pathway.",
    "Waiting list closed until next quarter.",
)
IN, OUT = ReferralDirection.INBOUND, ReferralDirection.OUTBOUND
# The first referrals cover every state in both directions (inbound ones arrive already
# sent); a few of them are made overdue on purpose.
COVERAGE = [(OUT, s) for s in S] + [(IN, s) for s in S if s != S.DRAFT]
FORCED_OVERDUE = {(OUT, S.SENT), (OUT, S.SCHEDULED), (IN, S.ACCEPTED), (OUT, S.SEEN)}
SHARE = 0.22


def _path(
    rng: random.Random, status: ReferralStatus, inbound: bool, may_withdraw: bool
) -> list[ReferralStatus]:
    if status == S.DECLINED:
        path = [S.DRAFT, S.SENT] if rng.random() < 0.6 else [S.DRAFT, S.SENT, S.ACCEPTED]
        path.append(S.DECLINED)
    elif status == S.CLOSED and may_withdraw and rng.random() < 0.25:  # before it finished
        path = [*MAIN[: rng.randrange(2 if inbound else 1, 6)], S.CLOSED]
    else:
        path = list(MAIN[: MAIN.index(status) + 1])
    assert all(b in TRANSITIONS[a] for a, b in pairwise(path)), path
    return path


class ReferralMaker:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("referrals")
        staff = ctx.get_staff()
        self.externals = staff.externals
        self.injected = False

    def _external(self, discipline: Discipline, status: ReferralStatus) -> tuple[int, Discipline]:
        def usable(s: str) -> bool:
            # Nobody is referred to a retired practitioner, though old closed ones remain.
            return s != "inactive" or status == S.CLOSED

        pool = [(p, d) for p, d, s in self.externals if d == discipline and usable(s)]
        pool = pool or [(p, d) for p, d, s in self.externals if s != "inactive"]
        return self.rng.choice(pool)

    def _stamps(self, path: list[ReferralStatus], last: datetime, inbound: bool) -> list[datetime]:
        ctx, rng = self.ctx, self.rng
        stamps = [last]
        for state in reversed(path[1:]):
            later = stamps[0]
            day = later.astimezone(ctx.tz).date() - timedelta(days=rng.randint(*GAP_DAYS[state]))
            stamps.insert(0, ctx.moment(rng, day, latest=later - timedelta(minutes=1)))
        if inbound:  # the referrer drafts and sends at once; we only see it arrive
            stamps[0] = stamps[1]
        return stamps

    def make(
        self,
        patient: PatientInfo,
        direction: ReferralDirection,
        status: ReferralStatus,
        overdue: bool,
        typical: bool,
    ) -> None:
        """One referral; `typical` ones may also be withdrawn part-way (closed unrated)."""
        rng = self.rng
        condition = rng.choice(patient.conditions)
        discipline = rng.choice(condition.network)
        external, ext_discipline = self._external(discipline, status)
        urgency = weighted(rng, {Urgency.ROUTINE: 75, Urgency.SOON: 18, Urgency.URGENT: 7})
        fill = {
            "condition": condition.name.lower(),
            "medication": patient.medications[0][1] if patient.medications else "their medication",
        }
        source, target, reason = self._parties(patient, direction, external, ext_discipline, fill)
        path = _path(rng, status, direction == IN, typical)
        last = self._last_transition(status, urgency, overdue)
        stamps = self._stamps(path, last, direction == IN)
        row = {
            "direction": direction.value,
            "patient_id": patient.id,
            "from_practitioner_id": source,
            "to_practitioner_id": target,
            "reason": reason,
            "urgency": urgency.value,
            "status": status.value,
            "created_at": stamps[0],
            "status_changed_at": stamps[-1],
            "outcome_rating": None,
            "outcome_note": None,
            **{column: None for column in STAMP_COLUMN.values()},
        }
        notes = self._history_notes(row, path, stamps)
        referral_id = self.ctx.add("referral", row)
        patient.referrals.append(referral_id)
        for i, state in enumerate(path):
            self.ctx.add(
                "referral_event",
                {
                    "referral_id": referral_id,
                    "from_status": path[i - 1].value if i else None,
                    "to_status": state.value,
                    "at": stamps[i],
                    "note": notes[i],
                },
            )
        self._external_note(patient, direction, path, stamps, external, ext_discipline, fill)

    def _parties(
        self,
        patient: PatientInfo,
        direction: ReferralDirection,
        external: int,
        ext_discipline: Discipline,
        fill: dict[str, str],
    ) -> tuple[int, int, str]:
        """Who refers to whom and why: ours to the network (outbound), or the reverse."""
        rng = self.rng
        if direction == OUT:
            allied = [
                e.practitioner_id for e in patient.elements if e.modality != Discipline.PHYSICIAN
            ]
            source = rng.choice(allied) if allied and rng.random() < 0.2 else patient.physician_id
            return source, external, rng.choice(REFERRAL_REASONS[ext_discipline]).format(**fill)
        allied = [e.practitioner_id for e in patient.elements]
        target = rng.choice(allied) if allied and rng.random() < 0.15 else patient.physician_id
        return external, target, rng.choice(INBOUND_REASONS).format(**fill)

    def _last_transition(self, status: ReferralStatus, urgency: Urgency, overdue: bool) -> datetime:
        """When the referral reached its state: past its overdue limit if `overdue`."""
        ctx, rng = self.ctx, self.rng
        if status in OPEN:
            limit = overdue_limit(status, urgency, {})
            # Whole days in the state count, so overdue ones clear the limit by two days.
            age = limit + rng.randint(2, 26) if overdue else rng.randint(0, max(0, limit - 1))
        else:
            age = rng.randint(1, 200)
        last = ctx.moment(rng, ctx.today - timedelta(days=age))
        if age == 0:
            last = min(last, ctx.now - timedelta(minutes=rng.randrange(5, 60)))
        return last

    def _history_notes(
        self, row: dict[str, Any], path: list[ReferralStatus], stamps: list[datetime]
    ) -> list[str | None]:
        """Stamp `row` along the path; the note of each event (declines, the outcome)."""
        rng = self.rng
        notes: list[str | None] = [None] * len(path)
        for i, state in enumerate(path[1:], 1):
            row[STAMP_COLUMN[state]] = stamps[i]
            if state == S.DECLINED:
                notes[i] = rng.choice(DECLINE_NOTES)
        if path[-1] == S.CLOSED:
            if S.REPORT_RECEIVED in path:
                row["outcome_rating"] = weighted(rng, {5: 30, 4: 35, 3: 20, 2: 10, 1: 5})
                row["outcome_note"] = rng.choice(OUTCOME_NOTES)
            else:
                row["outcome_note"] = "Withdrawn: patient chose not to go ahead."
            notes[-1] = row["outcome_note"]
        return notes

    def _external_note(
        self,
        patient: PatientInfo,
        direction: ReferralDirection,
        path: list[ReferralStatus],
        stamps: list[datetime],
        external: int,
        discipline: Discipline,
        fill: dict[str, str],
    ) -> None:
        """Network reports (outbound) and referral letters (inbound) kept as external notes."""
        if direction == OUT and S.REPORT_RECEIVED in path:
            at = stamps[path.index(S.REPORT_RECEIVED)]
            title = f"Report from {discipline.value.replace('_', ' ')}"
            if self.injected:
                body = self.rng.choice(REPORT_BODIES).format(**fill)
            else:
                body, self.injected = INJECTED_REPORT, True
        elif direction == IN:
            at, title = stamps[1], "Referral letter"
            body = (
                f"Dear colleague, I would be grateful if you could see this patient. "
                f"{self.rng.choice(INBOUND_REASONS).format(**fill)}"
            )
        else:
            return
        self.ctx.add(
            "clinical_note",
            {
                "patient_id": patient.id,
                "practitioner_id": external,
                "modality": discipline.value,
                "appointment_id": None,
                "written_at": at,
                "title": title,
                "body": body,
                "origin": "external",
                "updated_at": at,
            },
        )


def generate_referrals(ctx: Context) -> None:
    maker = ReferralMaker(ctx)
    rng = maker.rng
    total = max(len(COVERAGE), round(len(ctx.patients) * SHARE))
    for n in range(total):
        patient = rng.choice(ctx.patients)
        if n < len(COVERAGE):
            direction, status = COVERAGE[n]
            overdue = (direction, status) in FORCED_OVERDUE
        else:
            direction = OUT if rng.random() < 0.7 else IN
            status = weighted(
                rng,
                {
                    S.DRAFT: 5,
                    S.SENT: 12,
                    S.ACCEPTED: 10,
                    S.SCHEDULED: 15,
                    S.SEEN: 10,
                    S.REPORT_RECEIVED: 10,
                    S.CLOSED: 30,
                    S.DECLINED: 8,
                },
            )
            if direction == IN and status == S.DRAFT:
                status = S.SENT
            overdue = status in OPEN and rng.random() < 0.3
        maker.make(patient, direction, status, overdue, typical=n >= len(COVERAGE))
    ctx.report("referrals", total, total)
