"""The consolidated programme view: a patient's whole multi-modality programme in one place.

It reads in a fixed number of indexed queries (at most PROGRAMME_VIEW_QUERIES), whatever the
size of the practice, one small reader a section. Every rendering of the view (the API and
`--json` dict here, the CLI tables, the agent's role-redacted record) is a `ProgrammeSections`:
one method a section, called by `ProgrammeView.render` in one walk over `SECTIONS`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

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
from tools.supplies import results_by_order

T_co = TypeVar("T_co", covariant=True)

Section = Literal[
    "patient",  # the patient, conditions, allergies, medications
    "programmes",  # active and paused programmes with their elements
    "notes",  # recent notes, a few per practitioner
    "supplements",
    "labs",  # pending orders, recent orders with their results
    "referrals",
    "tasks",
    "messages",  # unacknowledged care-team messages
    "appointments",  # next booked appointments
    "intake",
]
# The order the dict and the agent's record list the sections in.
SECTIONS: tuple[Section, ...] = (
    "patient",
    "programmes",
    "notes",
    "supplements",
    "labs",
    "referrals",
    "tasks",
    "messages",
    "appointments",
    "intake",
)


class ProgrammeSections(Protocol[T_co]):
    """One rendering of the programme view: a method a section, each given the whole view."""

    def patient(self, view: ProgrammeView) -> T_co: ...
    def programmes(self, view: ProgrammeView) -> T_co: ...
    def notes(self, view: ProgrammeView) -> T_co: ...
    def supplements(self, view: ProgrammeView) -> T_co: ...
    def labs(self, view: ProgrammeView) -> T_co: ...
    def referrals(self, view: ProgrammeView) -> T_co: ...
    def tasks(self, view: ProgrammeView) -> T_co: ...
    def messages(self, view: ProgrammeView) -> T_co: ...
    def appointments(self, view: ProgrammeView) -> T_co: ...
    def intake(self, view: ProgrammeView) -> T_co: ...


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

    def elements_of(self, programme: CareProgramme) -> list[ProgrammeElement]:
        return [e for e in self.elements if e.programme_id == programme.id]

    def notes_in_order(self) -> list[ClinicalNote]:
        """The recent notes, practitioner by practitioner, latest first within each."""
        return [n for notes in self.recent_notes.values() for n in notes]

    def results_of(self, order: LabOrder) -> list[LabResult]:
        return self.lab_results.get(order.id or 0, [])

    def render(
        self, sections: ProgrammeSections[T_co], order: Sequence[Section] = SECTIONS
    ) -> list[T_co]:
        """Each section as `sections` renders it, in `order`."""
        return [getattr(sections, name)(self) for name in order]

    def to_dict(self) -> dict[str, Any]:
        """The whole view as JSON-ready data (the API's and `--json`'s form)."""
        out: dict[str, Any] = {}
        for part in self.render(DictSections()):
            out.update(part)
        return out


def _dump(items: Any) -> list[Any]:
    return [i.model_dump(mode="json") for i in items]


class DictSections:
    """The view as JSON-ready data: every row in full, practitioners named beside their ids."""

    def patient(self, view: ProgrammeView) -> dict[str, Any]:
        return {
            "patient": view.patient.model_dump(mode="json", exclude={"name_key"}),
            "conditions": _dump(view.conditions),
            "allergies": _dump(view.allergies),
            "medications": _dump(view.medications),
        }

    def programmes(self, view: ProgrammeView) -> dict[str, Any]:
        return {
            "programmes": [
                {
                    **p.model_dump(mode="json"),
                    "elements": [
                        {
                            **e.model_dump(mode="json"),
                            "practitioner": view.practitioner_name(e.practitioner_id),
                        }
                        for e in view.elements_of(p)
                    ],
                }
                for p in view.programmes
            ]
        }

    def notes(self, view: ProgrammeView) -> dict[str, Any]:
        return {
            "recent_notes": {
                view.practitioner_name(pid): _dump(notes)
                for pid, notes in view.recent_notes.items()
            }
        }

    def supplements(self, view: ProgrammeView) -> dict[str, Any]:
        return {"supplements": _dump(view.supplements)}

    def labs(self, view: ProgrammeView) -> dict[str, Any]:
        return {
            "pending_labs": _dump(view.pending_labs),
            "recent_labs": [
                {**o.model_dump(mode="json"), "results": _dump(view.results_of(o))}
                for o in view.recent_labs
            ],
        }

    def referrals(self, view: ProgrammeView) -> dict[str, Any]:
        return {"open_referrals": _dump(view.open_referrals)}

    def tasks(self, view: ProgrammeView) -> dict[str, Any]:
        return {"open_tasks": _dump(view.open_tasks)}

    def messages(self, view: ProgrammeView) -> dict[str, Any]:
        return {"unacknowledged_messages": _dump(view.unacknowledged_messages)}

    def appointments(self, view: ProgrammeView) -> dict[str, Any]:
        return {"next_appointments": _dump(view.next_appointments)}

    def intake(self, view: ProgrammeView) -> dict[str, Any]:
        return {"intake_forms": _dump(view.intake_forms)}


# ------------------------------------------------------------------ who works in whose programme

# Elements a practitioner is working on with the patient, now or soon.
WORKING_ELEMENT_STATUSES = (ElementStatus.ACTIVE, ElementStatus.PLANNED)


def working_elements(column: Any, *, programme_statuses: Sequence[ProgrammeStatus]) -> Any:
    """SELECT DISTINCT `column` of the elements being worked (active or planned) in
    programmes of these statuses; callers add which patient or practitioner."""
    return (
        select(column)
        .join(CareProgramme, col(CareProgramme.id) == col(ProgrammeElement.programme_id))
        .where(
            col(ProgrammeElement.status).in_(WORKING_ELEMENT_STATUSES),
            col(CareProgramme.status).in_(programme_statuses),
        )
        .distinct()
    )


# ------------------------------------------------------------------ reading the view

# Queries issued by programme_view, whatever the patient or practice size.
PROGRAMME_VIEW_QUERIES = 16


@dataclass(frozen=True)
class _Reader:
    """The queries of one programme view: one patient, one 'now', one recent window."""

    session: Session
    patient_id: int
    now: datetime
    since: datetime

    def rows(self, stmt: Any) -> list[Any]:
        return list(self.session.exec(stmt).all())

    def clinical_summary(
        self,
    ) -> tuple[list[PatientCondition], list[PatientAllergy], list[PatientMedication]]:
        pid = self.patient_id
        conditions = self.rows(
            select(PatientCondition).where(
                PatientCondition.patient_id == pid,
                PatientCondition.status == ConditionStatus.ACTIVE,
            )
        )
        allergies = self.rows(select(PatientAllergy).where(PatientAllergy.patient_id == pid))
        medications = self.rows(
            select(PatientMedication).where(
                PatientMedication.patient_id == pid, col(PatientMedication.stopped_on).is_(None)
            )
        )
        return conditions, allergies, medications

    def programmes(self) -> tuple[list[CareProgramme], list[ProgrammeElement]]:
        """Active and paused programmes, with their current and planned elements."""
        programmes = self.rows(
            select(CareProgramme)
            .where(
                CareProgramme.patient_id == self.patient_id,
                col(CareProgramme.status).in_([ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED]),
            )
            .order_by(col(CareProgramme.started_on))
        )
        elements = self.rows(
            select(ProgrammeElement)
            .where(
                ProgrammeElement.patient_id == self.patient_id,
                col(ProgrammeElement.status).in_(
                    [ElementStatus.ACTIVE, ElementStatus.PLANNED, ElementStatus.PAUSED]
                ),
            )
            .order_by(col(ProgrammeElement.started_on))
        )
        programme_ids = {p.id for p in programmes}
        return programmes, [e for e in elements if e.programme_id in programme_ids]

    def recent_notes(self, per_practitioner: int) -> dict[int, list[ClinicalNote]]:
        """The latest few notes of each practitioner within the recent window."""
        notes = self.rows(
            select(ClinicalNote)
            .where(
                ClinicalNote.patient_id == self.patient_id,
                col(ClinicalNote.written_at) >= self.since,
            )
            .order_by(col(ClinicalNote.written_at).desc())
            .limit(200)
        )
        recent: dict[int, list[ClinicalNote]] = defaultdict(list)
        for note in notes:
            if len(recent[note.practitioner_id]) < per_practitioner:
                recent[note.practitioner_id].append(note)
        return dict(recent)

    def supplements(self) -> list[SupplementItem]:
        return self.rows(
            select(SupplementItem)
            .where(
                SupplementItem.patient_id == self.patient_id,
                SupplementItem.status == SupplementStatus.ACTIVE,
            )
            .order_by(col(SupplementItem.product))
        )

    def labs(self) -> tuple[list[LabOrder], list[LabOrder], dict[int, list[LabResult]]]:
        """Pending orders, orders received in the window, and the latter's results."""
        labs = self.rows(
            select(LabOrder)
            .where(
                LabOrder.patient_id == self.patient_id,
                or_(
                    col(LabOrder.status).in_(PENDING_LAB_STATUSES),
                    col(LabOrder.received_on) >= self.since.date(),
                ),
            )
            .order_by(col(LabOrder.ordered_on).desc())
        )
        pending = [o for o in labs if o.status in PENDING_LAB_STATUSES]
        recent = [o for o in labs if o.status not in PENDING_LAB_STATUSES]
        return pending, recent, results_by_order(session=self.session, orders=recent)

    def open_referrals(self) -> list[Referral]:
        return self.rows(
            select(Referral)
            .where(
                Referral.patient_id == self.patient_id,
                col(Referral.status).in_(OPEN_REFERRAL_STATUSES),
            )
            .order_by(col(Referral.created_at))
        )

    def open_tasks(self) -> list[Task]:
        return self.rows(
            select(Task)
            .where(Task.patient_id == self.patient_id, col(Task.status).in_(OPEN_TASK_STATUSES))
            .order_by(col(Task.due_on))
        )

    def unacknowledged_messages(self) -> list[CareMessage]:
        return self.rows(
            select(CareMessage)
            .where(
                CareMessage.patient_id == self.patient_id,
                col(CareMessage.acknowledged_at).is_(None),
            )
            .order_by(col(CareMessage.created_at))
        )

    def next_appointments(self) -> list[Appointment]:
        return self.rows(
            select(Appointment)
            .where(
                Appointment.patient_id == self.patient_id,
                col(Appointment.starts_at) >= self.now,
                Appointment.status == AppointmentStatus.BOOKED,
            )
            .order_by(col(Appointment.starts_at))
            .limit(10)
        )

    def intake_forms(self) -> list[IntakeForm]:
        return self.rows(select(IntakeForm).where(IntakeForm.patient_id == self.patient_id))

    def practitioners(self, wanted: set[int]) -> dict[int, Practitioner]:
        if not wanted:
            return {}
        found = self.rows(select(Practitioner).where(col(Practitioner.id).in_(wanted)))
        return {p.id: p for p in found if p.id is not None}


def _named_practitioners(view: ProgrammeView) -> set[int]:
    """Every practitioner the view names: element owners, authors, assignees, senders..."""
    wanted: set[int] = {e.practitioner_id for e in view.elements}
    wanted |= set(view.recent_notes) | {a.practitioner_id for a in view.next_appointments}
    wanted |= {t.assignee_id for t in view.open_tasks}
    wanted |= {m.recipient_id for m in view.unacknowledged_messages}
    wanted |= {r.from_practitioner_id for r in view.open_referrals}
    wanted |= {r.to_practitioner_id for r in view.open_referrals}
    wanted |= {s.prescriber_id for s in view.supplements if s.prescriber_id}
    wanted |= {o.ordered_by_id for o in view.pending_labs + view.recent_labs}
    wanted |= {m.sender_id for m in view.unacknowledged_messages if m.sender_id}
    if view.patient.primary_physician_id:
        wanted.add(view.patient.primary_physician_id)
    return wanted


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
    patient = get_patient(session=session, patient_id=patient_id)
    read = _Reader(
        session=session, patient_id=patient_id, now=now, since=now - timedelta(days=recent_days)
    )
    conditions, allergies, medications = read.clinical_summary()
    programmes, elements = read.programmes()
    recent_notes = read.recent_notes(notes_per_practitioner)
    supplements = read.supplements()
    pending_labs, recent_labs, lab_results = read.labs()
    view = ProgrammeView(
        patient=patient,
        practitioners={},
        conditions=conditions,
        allergies=allergies,
        medications=medications,
        programmes=programmes,
        elements=elements,
        recent_notes=recent_notes,
        supplements=supplements,
        pending_labs=pending_labs,
        recent_labs=recent_labs,
        lab_results=lab_results,
        open_referrals=read.open_referrals(),
        open_tasks=read.open_tasks(),
        unacknowledged_messages=read.unacknowledged_messages(),
        next_appointments=read.next_appointments(),
        intake_forms=read.intake_forms(),
        generated_at=now,
    )
    view.practitioners = read.practitioners(_named_practitioners(view))
    audit.record(
        session=session,
        actor=actor,
        action="read",
        entity="programme_view",
        entity_id=patient_id,
        patient_id=patient_id,
    )
    return view
