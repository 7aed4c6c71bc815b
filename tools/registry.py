"""The registry: practitioners and patients, and tolerant patient search.

The consolidated programme view of a patient lives in tools.programme.
"""

from __future__ import annotations

import unicodedata
from datetime import date, time

from sqlmodel import Session, col, or_, select

from db.engine import get_for_update
from db.models import (
    LabStatus,
    Patient,
    PatientCreate,
    Practitioner,
    PractitionerCreate,
    ReferralStatus,
    WorkingHours,
)
from tools import audit
from tools.errors import Ambiguous, InvalidInput, NoMatch, NotFound

OPEN_REFERRAL_STATUSES = tuple(
    s for s in ReferralStatus if s not in (ReferralStatus.CLOSED, ReferralStatus.DECLINED)
)
PENDING_LAB_STATUSES = (LabStatus.ORDERED, LabStatus.COLLECTED)


def name_key(text: str) -> str:
    """Lower-case, accent-free, single-spaced text: 'Zoë  Ó Briain' -> 'zoe o briain'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("-", " ").replace("'", "").split())


# ------------------------------------------------------------------ practitioners


def create_practitioner(
    *,
    session: Session,
    data: PractitionerCreate,
    hours: dict[int, list[tuple[time, time]]] | None = None,
) -> Practitioner:
    """Add a practitioner with weekly working hours ({weekday: [(start, end), ...]})."""
    practitioner = Practitioner.model_validate(data)
    session.add(practitioner)
    session.flush()
    assert practitioner.id is not None
    for weekday, windows in (hours or {}).items():
        for start, end in windows:
            if not 0 <= weekday <= 6:
                raise InvalidInput(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            if end <= start:
                raise InvalidInput(f"working hours {start:%H:%M}-{end:%H:%M} end before they start")
            session.add(
                WorkingHours(practitioner_id=practitioner.id, weekday=weekday, start=start, end=end)
            )
    session.flush()
    return practitioner


def get_practitioner(*, session: Session, practitioner_id: int) -> Practitioner:
    practitioner = session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise NotFound("practitioner", practitioner_id)
    return practitioner


def find_practitioner(*, session: Session, query: str) -> Practitioner:
    """One practitioner by id or by a name fragment (Ambiguous lists the candidates)."""
    query = query.strip()
    if query.isdigit():
        return get_practitioner(session=session, practitioner_id=int(query))
    key = name_key(query)
    if not key:
        raise InvalidInput("empty practitioner name")
    matches = [p for p in session.exec(select(Practitioner)).all() if key in name_key(p.name)]
    if not matches:
        raise NoMatch("practitioner", query)
    if len(matches) > 1:
        raise Ambiguous(
            "practitioner", query, [(p.id or 0, f"{p.name} ({p.discipline})") for p in matches]
        )
    return matches[0]


# ----------------------------------------------------------------------- patients


def create_patient(*, session: Session, data: PatientCreate, actor: str = "system") -> Patient:
    if data.primary_physician_id is not None:
        get_practitioner(session=session, practitioner_id=data.primary_physician_id)
    patient = Patient.model_validate(data)
    patient.name_key = name_key(patient.full_name)
    session.add(patient)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="create",
        entity="patient",
        entity_id=patient.id,
        patient_id=patient.id,
    )
    return patient


def get_patient(*, session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("patient", patient_id)
    return patient


def find_patients(
    *,
    session: Session,
    name: str | None = None,
    date_of_birth: date | None = None,
    patient_id: int | None = None,
    limit: int = 50,
) -> list[Patient]:
    """Patients matching every given criterion; name matching ignores case, accents, order.

    Each word of `name` must start a word of the patient's name ('jo sm' finds Jo Smith).
    """
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
        return [patient] if patient else []
    if not name and date_of_birth is None:
        raise InvalidInput("give a name fragment, a date of birth or an id to search for")
    stmt = select(Patient)
    words = name_key(name).split() if name else []
    if name is not None and not words:
        raise InvalidInput("the name to search for is empty")
    for word in words:
        # Index-friendly prefix on the whole key, or the start of a later word.
        stmt = stmt.where(
            or_(col(Patient.name_key).startswith(word), col(Patient.name_key).contains(" " + word))
        )
    if date_of_birth is not None:
        stmt = stmt.where(Patient.date_of_birth == date_of_birth)
    stmt = stmt.order_by(col(Patient.family_name), col(Patient.given_name)).limit(limit)
    return list(session.exec(stmt).all())


def resolve_patient(*, session: Session, query: str, date_of_birth: date | None = None) -> Patient:
    """Exactly one patient from an id or a name fragment, or a clear error with candidates."""
    query = query.strip()
    if query.isdigit():
        return get_patient(session=session, patient_id=int(query))
    matches = find_patients(session=session, name=query, date_of_birth=date_of_birth, limit=26)
    if not matches:
        raise NoMatch("patient", query)
    if len(matches) > 1:
        raise Ambiguous(
            "patient",
            query,
            [(p.id or 0, f"{p.full_name}, born {p.date_of_birth.isoformat()}") for p in matches],
        )
    return matches[0]


def erase_patient(*, session: Session, patient_id: int, actor: str = "system") -> None:
    """Right to erasure: delete the patient and, by cascade, every record about them.

    The audit trail keeps the bare fact (who erased which patient id, when); it holds no
    clinical content. Long-term memory follows through the change log ('erase').
    """
    patient = get_for_update(session, Patient, patient_id)
    if patient is None:
        raise NotFound("patient", patient_id)
    session.delete(patient)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="erase",
        entity="patient",
        entity_id=patient_id,
        patient_id=patient_id,
    )
