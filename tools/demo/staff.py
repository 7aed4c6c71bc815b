"""The demo team: physicians, in-house allied practitioners, admin staff and an external
referral network with deliberate gaps (all names invented)."""

from __future__ import annotations

from datetime import time, timedelta

from tools.demo.context import Context, Staff
from tools.models import Affiliation, Discipline, PractitionerStatus
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


def _email(name: str, domain: str) -> str:
    return name_key(name).replace(" ", ".") + "@" + domain


def generate_staff(ctx: Context) -> Staff:
    rng = ctx.rng("staff")
    founded = ctx.today - timedelta(days=6 * 365)
    staff = Staff(physicians=[], admins=[], by_discipline={}, windows={}, externals=[], names={})
    for n, (name, title, discipline, hours) in enumerate(IN_HOUSE):
        pid = ctx.add(
            "practitioner",
            {
                "name": name,
                "discipline": discipline.value,
                "affiliation": Affiliation.IN_HOUSE.value,
                "title": title,
                "organisation": "Northbridge Integrative Health",
                "email": _email(name, "practice.example.org"),
                "phone": f"01632 960{100 + n:03d}",  # Ofcom drama numbers
                "status": PractitionerStatus.ACTIVE.value,
                "created_at": ctx.moment(rng, founded + timedelta(days=rng.randrange(0, 1500))),
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
                    {
                        "practitioner_id": pid,
                        "weekday": weekday,
                        "start": start,
                        "end": end,
                    },
                )
        if discipline == D.PHYSICIAN:
            staff.physicians.append(pid)
        elif discipline == D.ADMIN:
            staff.admins.append(pid)
        if discipline != D.ADMIN:
            staff.by_discipline.setdefault(discipline, []).append(pid)

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
    ctx.staff = staff
    ctx.report("staff", 1, 1)
    return staff
