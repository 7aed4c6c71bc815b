"""The registry: practitioners and patients, tolerant patient search, and the programme view.

The consolidated programme view reads a patient's whole multi-modality programme in a fixed
number of indexed queries (PROGRAMME_VIEW_QUERIES), whatever the size of the practice.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from tools import audit
from tools.db import utcnow
from tools.errors import Ambiguous, InvalidInput, NoMatch, NotFound
from tools.models import (
    Appointment,
    AppointmentStatus,
    CareMessage,
    CareProgramme,
    ClinicalNote,
    ConditionStatus,
    ElementStatus,
    IntakeForm,
    LabOrder,
    LabResult,
    LabStatus,
    Patient,
    PatientAllergy,
    PatientCondition,
    PatientCreate,
    PatientMedication,
    Practitioner,
    PractitionerCreate,
    ProgrammeElement,
    ProgrammeStatus,
    Referral,
    ReferralStatus,
    SupplementItem,
    SupplementStatus,
    Task,
    WorkingHours,
)
from tools.models.enums import OPEN_TASK_STATUSES

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


# ------------------------------------------------------------------ programme view


@dataclass
class ProgrammeView:
    """Everything about one patient's programme across modalities, read in one place."""

    patient: Patient
    practitioners: dict[int, Practitioner]
    conditions: list[PatientCondition]
    allergies: list[PatientAllergy]
    medications: list[PatientMedication]
    programmes: list[CareProgramme]
    elements: list[ProgrammeElement]
    recent_notes: dict[int, list[ClinicalNote]]
    supplements: list[SupplementItem]
    pending_labs: list[LabOrder]
    recent_labs: list[LabOrder]
    lab_results: dict[int, list[LabResult]]
    open_referrals: list[Referral]
    open_tasks: list[Task]
    unacknowledged_messages: list[CareMessage]
    next_appointments: list[Appointment]
    intake_forms: list[IntakeForm]
    generated_at: datetime = field(default_factory=utcnow)

    def practitioner_name(self, practitioner_id: int | None) -> str:
        if practitioner_id is None:
            return "Steve (assistant)"
        p = self.practitioners.get(practitioner_id)
        return p.name if p else f"practitioner {practitioner_id}"

    def to_dict(self) -> dict[str, Any]:
        def dump(items: Any) -> Any:
            return [i.model_dump(mode="json") for i in items]

        return {
            "patient": self.patient.model_dump(mode="json", exclude={"name_key"}),
            "conditions": dump(self.conditions),
            "allergies": dump(self.allergies),
            "medications": dump(self.medications),
            "programmes": [
                {
                    **p.model_dump(mode="json"),
                    "elements": [
                        {
                            **e.model_dump(mode="json"),
                            "practitioner": self.practitioner_name(e.practitioner_id),
                        }
                        for e in self.elements
                        if e.programme_id == p.id
                    ],
                }
                for p in self.programmes
            ],
            "recent_notes": {
                self.practitioner_name(pid): dump(notes) for pid, notes in self.recent_notes.items()
            },
            "supplements": dump(self.supplements),
            "pending_labs": dump(self.pending_labs),
            "recent_labs": [
                {**o.model_dump(mode="json"), "results": dump(self.lab_results.get(o.id or 0, []))}
                for o in self.recent_labs
            ],
            "open_referrals": dump(self.open_referrals),
            "open_tasks": dump(self.open_tasks),
            "unacknowledged_messages": dump(self.unacknowledged_messages),
            "next_appointments": dump(self.next_appointments),
            "intake_forms": dump(self.intake_forms),
        }


# Queries issued by programme_view, whatever the patient or practice size.
PROGRAMME_VIEW_QUERIES = 16


def programme_view(
    *,
    session: Session,
    patient_id: int,
    now: datetime | None = None,
    notes_per_practitioner: int = 3,
    recent_days: int = 90,
    actor: str = "system",
) -> ProgrammeView:
    """The consolidated programme view of one patient (raises NotFound for an unknown id)."""
    now = now or utcnow()
    since = now - timedelta(days=recent_days)
    patient = get_patient(session=session, patient_id=patient_id)

    def rows(stmt: Any) -> list[Any]:
        return list(session.exec(stmt).all())

    conditions = rows(
        select(PatientCondition).where(
            PatientCondition.patient_id == patient_id,
            PatientCondition.status == ConditionStatus.ACTIVE,
        )
    )
    allergies = rows(select(PatientAllergy).where(PatientAllergy.patient_id == patient_id))
    medications = rows(
        select(PatientMedication).where(
            PatientMedication.patient_id == patient_id, col(PatientMedication.stopped_on).is_(None)
        )
    )
    programmes = rows(
        select(CareProgramme)
        .where(
            CareProgramme.patient_id == patient_id,
            col(CareProgramme.status).in_([ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED]),
        )
        .order_by(col(CareProgramme.started_on))
    )
    elements = rows(
        select(ProgrammeElement)
        .where(
            ProgrammeElement.patient_id == patient_id,
            col(ProgrammeElement.status).in_(
                [ElementStatus.ACTIVE, ElementStatus.PLANNED, ElementStatus.PAUSED]
            ),
        )
        .order_by(col(ProgrammeElement.started_on))
    )
    programme_ids = {p.id for p in programmes}
    elements = [e for e in elements if e.programme_id in programme_ids]

    notes = rows(
        select(ClinicalNote)
        .where(ClinicalNote.patient_id == patient_id, col(ClinicalNote.written_at) >= since)
        .order_by(col(ClinicalNote.written_at).desc())
        .limit(200)
    )
    recent_notes: dict[int, list[ClinicalNote]] = defaultdict(list)
    for note in notes:
        if len(recent_notes[note.practitioner_id]) < notes_per_practitioner:
            recent_notes[note.practitioner_id].append(note)

    supplements = rows(
        select(SupplementItem)
        .where(
            SupplementItem.patient_id == patient_id,
            SupplementItem.status == SupplementStatus.ACTIVE,
        )
        .order_by(col(SupplementItem.product))
    )
    labs = rows(
        select(LabOrder)
        .where(
            LabOrder.patient_id == patient_id,
            or_(
                col(LabOrder.status).in_(PENDING_LAB_STATUSES),
                col(LabOrder.received_on) >= since.date(),
            ),
        )
        .order_by(col(LabOrder.ordered_on).desc())
    )
    pending = [o for o in labs if o.status in PENDING_LAB_STATUSES]
    recent = [o for o in labs if o.status not in PENDING_LAB_STATUSES]
    results: dict[int, list[LabResult]] = defaultdict(list)
    if recent:
        for r in rows(
            select(LabResult)
            .where(col(LabResult.order_id).in_([o.id for o in recent]))
            .order_by(col(LabResult.id))
        ):
            results[r.order_id].append(r)

    referrals = rows(
        select(Referral)
        .where(Referral.patient_id == patient_id, col(Referral.status).in_(OPEN_REFERRAL_STATUSES))
        .order_by(col(Referral.created_at))
    )
    tasks = rows(
        select(Task)
        .where(Task.patient_id == patient_id, col(Task.status).in_(OPEN_TASK_STATUSES))
        .order_by(col(Task.due_on))
    )
    messages = rows(
        select(CareMessage)
        .where(CareMessage.patient_id == patient_id, col(CareMessage.acknowledged_at).is_(None))
        .order_by(col(CareMessage.created_at))
    )
    appointments = rows(
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            col(Appointment.starts_at) >= now,
            Appointment.status == AppointmentStatus.BOOKED,
        )
        .order_by(col(Appointment.starts_at))
        .limit(10)
    )
    intake = rows(select(IntakeForm).where(IntakeForm.patient_id == patient_id))

    wanted: set[int] = {e.practitioner_id for e in elements}
    wanted |= set(recent_notes) | {a.practitioner_id for a in appointments}
    wanted |= {t.assignee_id for t in tasks} | {m.recipient_id for m in messages}
    wanted |= {r.from_practitioner_id for r in referrals} | {
        r.to_practitioner_id for r in referrals
    }
    wanted |= {s.prescriber_id for s in supplements if s.prescriber_id}
    wanted |= {o.ordered_by_id for o in labs}
    wanted |= {m.sender_id for m in messages if m.sender_id}
    if patient.primary_physician_id:
        wanted.add(patient.primary_physician_id)
    practitioners = (
        {p.id: p for p in rows(select(Practitioner).where(col(Practitioner.id).in_(wanted)))}
        if wanted
        else {}
    )

    audit.record(
        session=session,
        actor=actor,
        action="read",
        entity="programme_view",
        entity_id=patient_id,
        patient_id=patient_id,
    )
    return ProgrammeView(
        patient=patient,
        practitioners={k: v for k, v in practitioners.items() if k is not None},
        conditions=conditions,
        allergies=allergies,
        medications=medications,
        programmes=programmes,
        elements=elements,
        recent_notes=dict(recent_notes),
        supplements=supplements,
        pending_labs=pending,
        recent_labs=recent,
        lab_results=dict(results),
        open_referrals=referrals,
        open_tasks=tasks,
        unacknowledged_messages=messages,
        next_appointments=appointments,
        intake_forms=intake,
        generated_at=now,
    )
