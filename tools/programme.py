"""The consolidated programme view: a patient's whole multi-modality programme in one place.

It reads in a fixed number of indexed queries (at most PROGRAMME_VIEW_QUERIES), whatever the
size of the practice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from db.engine import utcnow
from db.models import (
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
    Patient,
    PatientAllergy,
    PatientCondition,
    PatientMedication,
    Practitioner,
    ProgrammeElement,
    ProgrammeStatus,
    Referral,
    SupplementItem,
    SupplementStatus,
    Task,
)
from db.models.enums import OPEN_TASK_STATUSES
from tools import audit
from tools.registry import OPEN_REFERRAL_STATUSES, PENDING_LAB_STATUSES, get_patient

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
