"""Small builders for test practices (real rows in a real database, no mocks)."""

from __future__ import annotations

import itertools
from datetime import date, time

from sqlmodel import Session

from db.models import (
    Affiliation,
    Discipline,
    Patient,
    PatientCreate,
    Practitioner,
    PractitionerCreate,
)
from tools.registry import create_patient, create_practitioner

_counter = itertools.count(1)
WEEKDAYS_9_TO_5 = {d: [(time(9), time(17))] for d in range(5)}


def practitioner(
    session: Session,
    *,
    name: str | None = None,
    discipline: Discipline = Discipline.PHYSICIAN,
    affiliation: Affiliation = Affiliation.IN_HOUSE,
    hours: dict[int, list[tuple[time, time]]] | None = None,
    **extra: object,
) -> Practitioner:
    n = next(_counter)
    return create_practitioner(
        session=session,
        data=PractitionerCreate(
            name=name or f"Practitioner {n}",
            discipline=discipline,
            affiliation=affiliation,
            **extra,  # type: ignore[arg-type]
        ),
        hours=WEEKDAYS_9_TO_5 if hours is None and affiliation == Affiliation.IN_HOUSE else hours,
    )


def patient(
    session: Session,
    *,
    given: str = "Ada",
    family: str | None = None,
    born: date = date(1980, 5, 17),
    physician: Practitioner | None = None,
) -> Patient:
    n = next(_counter)
    return create_patient(
        session=session,
        data=PatientCreate(
            given_name=given,
            family_name=family or f"Testperson{n}",
            date_of_birth=born,
            primary_physician_id=physician.id if physician else None,
        ),
    )
