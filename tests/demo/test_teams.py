"""The demo grows by care teams: a large practice is as busy per patient as the default one."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo

from db.models import (
    AppointmentStatus,
)
from demo.build_state import Context
from demo.generate import build
from demo.staff import generate_staff, team_count
from tools.clock import at_local
from tools.registry import name_key

TZ = ZoneInfo("Europe/London")
TODAY = date(2025, 3, 26)  # a Wednesday; the window spans the clocks going forward
NOW = at_local(TODAY, time(9, 30), TZ)  # the moment the demo describes
N = 50


# ------------------------------------------------------------------ care teams


def _built(patients: int) -> Context:
    """A demo generated in memory only (no database): fast, and the same on every backend."""
    ctx = Context(seed=7, today=TODAY, tz=TZ, progress=None)
    build(ctx, patients)
    return ctx


def test_team_count_and_a_large_staff() -> None:
    assert [team_count(n) for n in (1, 300, 449, 450, 900, 10_000)] == [1, 1, 1, 2, 3, 33]
    ctx = Context(seed=7, today=TODAY, tz=TZ, progress=None)
    staff = generate_staff(ctx, 33)
    assert len(staff.teams) == 33 and len(staff.physicians) == 66
    assert len(staff.admins) == 12 and all(team.admins for team in staff.teams)
    assert len(staff.externals) == 15
    people = ctx.rows["practitioner"]
    assert len({name_key(p["name"]) for p in people}) == len(people)
    assert len({p["email"] for p in people}) == len({p["phone"] for p in people}) == len(people)
    assert all(p["email"].isascii() for p in people)
    original = {name_key(p["name"]).split(" ", 1)[1] for p in people[:26]}
    assert not {name_key(p["name"]).split(" ", 1)[1] for p in people[26:]} & original
    for team in staff.teams[1:]:  # a copy of the original team's roles and hours
        for discipline, ids in staff.teams[0].by_discipline.items():
            copies = team.by_discipline[discipline]
            assert [staff.windows[p] for p in copies] == [staff.windows[p] for p in ids]


def test_a_larger_practice_gets_more_teams_and_as_many_appointments_per_patient() -> None:
    small, large = _built(300), _built(900)
    for ctx in (small, large):
        staff = ctx.get_staff()
        for patient in ctx.patients:  # cared for by their own team only
            team = staff.team(patient)
            assert patient.physician_id in team.physicians
            assert all(
                e.practitioner_id in team.by_discipline[e.modality] for e in patient.elements
            )

    def clinicians(ctx: Context) -> int:
        return sum(
            p["affiliation"] == "in_house" and p["discipline"] != "admin"
            for p in ctx.rows["practitioner"]
        )

    assert clinicians(small) == 9 and clinicians(large) == 27
    for table in ("appointment", "clinical_note"):
        per_patient = [len(c.rows[table]) / len(c.patients) for c in (small, large)]
        assert 0.85 <= per_patient[1] / per_patient[0] <= 1.15, (table, per_patient)
    cancelled = AppointmentStatus.CANCELLED.value
    booked = [a for a in large.rows["appointment"] if a["status"] != cancelled]
    for key in ("practitioner_id", "patient_id"):
        spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for a in booked:
            spans[a[key]].append((a["starts_at"], a["ends_at"]))
        for times in spans.values():
            times.sort()
            assert all(a[1] <= b[0] for a, b in pairwise(times)), key
    windows = large.get_staff().windows
    for a in large.rows["appointment"]:
        start, end = a["starts_at"].astimezone(TZ), a["ends_at"].astimezone(TZ)
        minutes = (start.hour * 60 + start.minute, end.hour * 60 + end.minute)
        spans_today = windows[a["practitioner_id"]][start.weekday()]
        assert any(ws <= minutes[0] and minutes[1] <= we for ws, we in spans_today)
    invented = large.get_staff().invented  # extra teams' names, kept off the register
    assert len(invented) == 18 and not invented & {p["name_key"] for p in large.rows["patient"]}
