"""The demo team: physicians, in-house allied practitioners, admin staff and an external
referral network with deliberate gaps (all names invented)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from db.models import Affiliation, Discipline, PractitionerStatus
from demo.build_state import Context, Staff, Team, weighted
from demo.names import FAMILY, FEMALE_GIVEN, MALE_GIVEN, NEUTRAL_GIVEN, SHARED_NAMES
from tools.registry import name_key

D = Discipline
Hours = dict[int, list[tuple[time, time]]]


def _days(days: range | tuple[int, ...], *windows: tuple[time, time]) -> Hours:
    return {d: list(windows) for d in days}


WEEKDAYS = range(5)
LUNCH_SPLIT = ((time(8, 30), time(12, 30)), (time(13, 30), time(17, 30)))

# (name, title, discipline, weekly hours). One physician works a Saturday morning; several
# people are part-time, so diaries differ from day to day.
IN_HOUSE: tuple[tuple[str, str | None, Discipline, Hours], ...] = (
    ("Helena Marsh", "Dr", D.PHYSICIAN, _days(WEEKDAYS, *LUNCH_SPLIT)),
    (
        "Tomás Ferreira",
        "Dr",
        D.PHYSICIAN,
        {
            **_days((0, 1, 3), (time(9), time(13)), (time(14), time(17, 30))),
            5: [(time(9), time(12, 30))],
        },
    ),
    (
        "Mei-Lin Zhou",
        "Lic.Ac.",
        D.ACUPUNCTURE,
        _days((0, 1, 2, 3), (time(9), time(13)), (time(13, 45), time(18))),
    ),
    ("Rhys Pritchard", "Lic.Ac.", D.ACUPUNCTURE, _days((1, 4), (time(10), time(19)))),
    ("Inês Kowalczyk", "DO", D.OSTEOPATHY, _days((1, 2, 3, 4), (time(8), time(16)))),
    ("Grace Adebayo", None, D.HEALTH_COACHING, _days((0, 2, 4), (time(9), time(15)))),
    (
        "Lucía Romero",
        "mBANT",
        D.NUTRITIONAL_THERAPY,
        _days((0, 1, 2, 3), (time(9, 30), time(17, 30))),
    ),
    ("Jonas Lindqvist", None, D.MASSAGE, _days((2, 3, 4), (time(11), time(19)))),
    ("Bríd Keane", "RGN", D.NURSE, _days(WEEKDAYS, (time(8), time(14)))),
    ("Priya Anand", None, D.ADMIN, _days(WEEKDAYS, (time(8), time(17)))),
    ("Oliver Barnes", None, D.ADMIN, _days((0, 1, 2, 3), (time(8, 30), time(14, 30)))),
)

# (name, title, discipline, organisation, status). Mind-body has nobody and pain medicine
# only a retired (inactive) consultant, so the network shows gaps; one gastroenterologist
# is on leave while a colleague covers.
EXTERNAL: tuple[tuple[str, str | None, Discipline, str, PractitionerStatus], ...] = (
    (
        "Amira Haddad",
        None,
        D.PSYCHOTHERAPY,
        "Riverside Talking Therapies",
        PractitionerStatus.ACTIVE,
    ),
    (
        "Colm Ó Ceallaigh",
        None,
        D.PSYCHOTHERAPY,
        "Northbridge Psychology",
        PractitionerStatus.ACTIVE,
    ),
    ("Ruth Ellison", None, D.PHYSIOTHERAPY, "Move Well Physiotherapy", PractitionerStatus.ACTIVE),
    ("Kwabena Asante", None, D.PHYSIOTHERAPY, "Kingsford Sports Physio", PractitionerStatus.ACTIVE),
    (
        "Sunita Rao",
        "Dr",
        D.GASTROENTEROLOGY,
        "Eastwick Digestive Health",
        PractitionerStatus.ON_LEAVE,
    ),
    (
        "Marcus Feld",
        "Dr",
        D.GASTROENTEROLOGY,
        "Eastwick Digestive Health",
        PractitionerStatus.ACTIVE,
    ),
    (
        "Ilse Vermeulen",
        "Dr",
        D.ENDOCRINOLOGY,
        "Harrowfield Endocrine Centre",
        PractitionerStatus.ACTIVE,
    ),
    ("Gareth Pryce", "Dr", D.RHEUMATOLOGY, "Millbrook Rheumatology", PractitionerStatus.ACTIVE),
    ("Noor Siddiqui", "Dr", D.RHEUMATOLOGY, "Oakhurst Private Clinic", PractitionerStatus.ACTIVE),
    ("Elena Petrescu", "Dr", D.GYNAECOLOGY, "Westcombe Women's Health", PractitionerStatus.ACTIVE),
    (
        "Fiona Galbraith",
        "Dr",
        D.GYNAECOLOGY,
        "Thornley Menopause Clinic",
        PractitionerStatus.ACTIVE,
    ),
    ("Adebayo Okonkwo", "Dr", D.NEUROLOGY, "Kingsford Headache Clinic", PractitionerStatus.ACTIVE),
    ("Hanna Virtanen", None, D.DIETETICS, "Fenwick Dietetics", PractitionerStatus.ACTIVE),
    (
        "Tom Ashcroft",
        None,
        D.DIETETICS,
        "Saltmarsh Nutrition & Dietetics",
        PractitionerStatus.ACTIVE,
    ),
    ("Victor Lamb", "Dr", D.PAIN_MEDICINE, "Lowmoor Pain Service", PractitionerStatus.INACTIVE),
)


# Letters name_key leaves as they are (they do not decompose), spelled out for addresses.
ASCII = str.maketrans({"ø": "o", "ı": "i", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe"})  # noqa: RUF001


def _email(name: str, domain: str) -> str:
    return name_key(name).translate(ASCII).replace(" ", ".") + "@" + domain


# ----------------------------------------------------------------- care teams

# A larger practice is several care teams: the original team above, then one copy of its
# clinical roles (same titles and kinds of hours, invented names) per further ~300
# patients, and one more admin for every three extra teams. Up to 449 patients the
# practice is the original team alone, exactly as it always was.
PATIENTS_PER_TEAM = 300
TEAMS_PER_ADMIN = 3
CLINICAL = tuple(person for person in IN_HOUSE if person[2] != D.ADMIN)
ADMINS = tuple(person for person in IN_HOUSE if person[2] == D.ADMIN)


def team_count(patients: int) -> int:
    """Care teams for a register of `patients`: 1 up to 449, 3 at 900, 33 at 10,000."""
    return max(1, (patients + PATIENTS_PER_TEAM // 2) // PATIENTS_PER_TEAM)


def _family(name: str) -> str:
    return name.split(" ", 1)[1]


class StaffNames:
    """Invented staff names from the patient vocabularies, unique by search key.

    Names never repeat an existing staff member's or a pinned (shared) patient name, never
    borrow those people's family names (so "Dr Ferreira" or "Müller" stays unambiguous),
    and within one team no two people share a given or a family name. Patients are then
    kept off the names made here (see Staff.invented), so no patient is a namesake of staff.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        fixed = [name for name, *_ in IN_HOUSE + EXTERNAL]
        fixed += [f"{given} {family}" for given, family, _ in SHARED_NAMES]
        self.taken = {name_key(name) for name in fixed}
        self.made: set[str] = set()
        banned = {name_key(_family(name)) for name in fixed}
        self.families = [f for f in FAMILY if name_key(f) not in banned]
        self.pools = {"female": FEMALE_GIVEN, "male": MALE_GIVEN, "other": NEUTRAL_GIVEN}

    def new(self, team: list[str]) -> str:
        """A fresh name; `team` holds the names already given in the same team."""
        givens = {name_key(name.split(" ", 1)[0]) for name in team}
        families = {name_key(_family(name)) for name in team}
        while True:  # ~12,000 combinations; 100,000 patients need ~3,100 names
            sex = weighted(self.rng, {"female": 60, "male": 38, "other": 2})
            given, family = self.rng.choice(self.pools[sex]), self.rng.choice(self.families)
            key = name_key(f"{given} {family}")
            if key in self.taken or name_key(given) in givens or name_key(family) in families:
                continue
            self.taken.add(key)
            self.made.add(key)
            return f"{given} {family}"


# ---------------------------------------------------------------------- staff


def _in_house(
    ctx: Context,
    staff: Staff,
    team: Team,
    person: tuple[str, str | None, Discipline, Hours],
    created: datetime,
) -> None:
    """One in-house staff member of `team`, with working hours."""
    name, title, discipline, hours = person
    n = len(staff.windows)  # in-house people so far
    pid = ctx.add(
        "practitioner",
        {
            "name": name,
            "discipline": discipline.value,
            "affiliation": Affiliation.IN_HOUSE.value,
            "title": title,
            "organisation": "Northbridge Integrative Health",
            "email": _email(name, "practice.example.org"),
            # Ofcom drama numbers; they repeat only past 900 in-house staff (~29,000 patients).
            "phone": f"01632 960{(100 + n) % 1000:03d}",
            "status": PractitionerStatus.ACTIVE.value,
            "created_at": created,
        },
    )
    staff.names[pid] = name
    staff.windows[pid] = {}
    for weekday, windows in sorted(hours.items()):
        staff.windows[pid][weekday] = [
            (s.hour * 60 + s.minute, e.hour * 60 + e.minute) for s, e in windows
        ]
        for start, end in windows:
            ctx.add(
                "working_hours",
                {"practitioner_id": pid, "weekday": weekday, "start": start, "end": end},
            )
    if discipline == D.PHYSICIAN:
        staff.physicians.append(pid)
        team.physicians.append(pid)
    elif discipline == D.ADMIN:
        staff.admins.append(pid)
        team.admins.append(pid)
    if discipline != D.ADMIN:
        staff.by_discipline.setdefault(discipline, []).append(pid)
        team.by_discipline.setdefault(discipline, []).append(pid)


def _new_team() -> Team:
    return Team(physicians=[], admins=[], by_discipline={})


def _extra_teams(ctx: Context, staff: Staff, teams: int) -> None:
    """Teams 1..teams-1, added over the years as the practice grew (own random stream, so
    the original team and the network are the same whatever the size)."""
    rng = ctx.rng("teams")
    names = StaffNames(rng)
    founded = ctx.today - timedelta(days=6 * 365)
    for k in range(1, teams):
        team = _new_team()
        joined = founded + timedelta(days=365 + k * 4 * 365 // teams)
        if k % TEAMS_PER_ADMIN == 0:  # a new admin for this team and the next two
            _, title, discipline, hours = ADMINS[(k // TEAMS_PER_ADMIN - 1) % len(ADMINS)]
            created = ctx.moment(rng, joined + timedelta(days=rng.randrange(0, 60)))
            _in_house(ctx, staff, team, (names.new([]), title, discipline, hours), created)
        else:  # the admins of the team before (the original two for teams 1 and 2)
            team.admins = list(staff.teams[-1].admins)
        staff.teams.append(team)
        given: list[str] = []
        for _, title, discipline, hours in CLINICAL:
            given.append(names.new(given))
            created = ctx.moment(rng, joined + timedelta(days=rng.randrange(0, 120)))
            _in_house(ctx, staff, team, (given[-1], title, discipline, hours), created)
    staff.invented = names.made


def generate_staff(ctx: Context, teams: int = 1) -> Staff:
    rng = ctx.rng("staff")
    founded = ctx.today - timedelta(days=6 * 365)
    staff = Staff(physicians=[], admins=[], by_discipline={}, windows={}, externals=[], names={})
    staff.teams.append(_new_team())
    for person in IN_HOUSE:
        created = ctx.moment(rng, founded + timedelta(days=rng.randrange(0, 1500)))
        _in_house(ctx, staff, staff.teams[0], person, created)

    for n, (name, title, discipline, org, status) in enumerate(EXTERNAL):
        pid = ctx.add(
            "practitioner",
            {
                "name": name,
                "discipline": discipline.value,
                "affiliation": Affiliation.EXTERNAL.value,
                "title": title,
                "organisation": org,
                "email": _email(name, "network.example.net"),
                "phone": f"01632 961{100 + n:03d}",
                "status": status.value,
                "created_at": ctx.moment(rng, founded + timedelta(days=rng.randrange(0, 1800))),
            },
        )
        staff.names[pid] = name
        staff.externals.append((pid, discipline, status.value))
    _extra_teams(ctx, staff, teams)
    ctx.staff = staff
    ctx.report("staff", 1, 1)
    return staff
