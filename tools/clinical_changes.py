"""What changed for a patient since their last visit with a physician: plain, indexed queries.

"Since" is the start of the patient's last completed appointment with this physician before
the visit being prepared; at a first visit with them it is `lookback_days` before now. The
window for conflicting guidance (supplements stopped, notes that say otherwise) is the wider
of the two, so a stop just before the last visit still counts.

A fixed number of queries (CHANGES_QUERIES at most), each on an indexed patient column,
whatever the size of the practice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlmodel import Session, col, or_, select

from db.models import (
    Appointment,
    AppointmentStatus,
    CareMessage,
    ClinicalNote,
    LabOrder,
    LabResult,
    PatientMedication,
    Referral,
    ReferralEvent,
    SupplementItem,
)
from tools.registry import PENDING_LAB_STATUSES
from tools.supplies import OverdueLab, late_orders, results_by_order

CHANGES_QUERIES = 8
MAX_NOTES = 40  # notes since the last visit, newest kept

# A course of something taken: a supplement or a medication (started_on, stopped_on).
Course = TypeVar("Course", SupplementItem, PatientMedication)


@dataclass
class Changes:
    patient_id: int
    physician_id: int
    since: datetime
    last_visit: Appointment | None  # None: first visit with this physician
    window_start: datetime  # for conflicting guidance: min(since, now - lookback)
    notes: list[ClinicalNote]  # since, oldest first, every author (the physician's too)
    supplements: list[SupplementItem]  # started or stopped in the window
    medications: list[PatientMedication]  # started or stopped in the window
    messages: list[CareMessage]  # about the patient in the window, oldest first
    new_labs: list[LabOrder]  # received since
    pending_labs: list[LabOrder]  # ordered or collected, not back yet
    overdue_labs: list[OverdueLab]
    results: dict[int, list[LabResult]] = field(default_factory=dict)  # by order id
    referral_moves: list[tuple[ReferralEvent, Referral]] = field(default_factory=list)

    @property
    def first_visit(self) -> bool:
        return self.last_visit is None

    def notes_by_others(self) -> list[ClinicalNote]:
        """Notes since the last visit written by someone other than this physician."""
        return [
            n
            for n in self.notes
            if n.practitioner_id != self.physician_id and n.written_at >= self.since
        ]

    def messages_since(self) -> list[CareMessage]:
        return [m for m in self.messages if m.created_at >= self.since]


def last_visit(
    *, session: Session, patient_id: int, physician_id: int, before: datetime
) -> Appointment | None:
    """The patient's last completed appointment with this physician that started before."""
    return session.exec(
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.practitioner_id == physician_id,
            Appointment.status == AppointmentStatus.COMPLETED,
            col(Appointment.starts_at) < before,
        )
        .order_by(col(Appointment.starts_at).desc(), col(Appointment.id).desc())
        .limit(1)
    ).first()


def changes_since(
    *,
    session: Session,
    patient_id: int,
    physician_id: int,
    now: datetime,
    today: date,
    before: datetime | None = None,
    lookback_days: int = 90,
    lab_grace_days: int = 2,
) -> Changes:
    """What changed since the last visit with `physician_id` before `before` (default now)."""
    visit = last_visit(
        session=session, patient_id=patient_id, physician_id=physician_id, before=before or now
    )
    lookback = now - timedelta(days=lookback_days)
    since = visit.starts_at if visit is not None else lookback
    window = min(since, lookback)
    new_labs, pending = _lab_orders(session, patient_id, since)
    return Changes(
        patient_id=patient_id,
        physician_id=physician_id,
        since=since,
        last_visit=visit,
        window_start=window,
        notes=_notes(session, patient_id, window),
        supplements=_started_or_stopped(session, SupplementItem, patient_id, window),
        medications=_started_or_stopped(session, PatientMedication, patient_id, window),
        messages=_messages(session, patient_id, window),
        new_labs=new_labs,
        pending_labs=pending,
        overdue_labs=late_orders(pending, today=today, grace_days=lab_grace_days),
        results=results_by_order(session=session, orders=new_labs),
        referral_moves=_referral_moves(session, patient_id, since),
    )


def _notes(session: Session, patient_id: int, window: datetime) -> list[ClinicalNote]:
    """The newest MAX_NOTES notes in the window, oldest first."""
    notes = list(
        session.exec(
            select(ClinicalNote)
            .where(ClinicalNote.patient_id == patient_id, col(ClinicalNote.written_at) >= window)
            .order_by(col(ClinicalNote.written_at).desc(), col(ClinicalNote.id).desc())
            .limit(MAX_NOTES)
        ).all()
    )
    notes.reverse()
    return notes


def _started_or_stopped(
    session: Session, model: type[Course], patient_id: int, window: datetime
) -> list[Course]:
    """Supplements or medications started or stopped in the window."""
    return list(
        session.exec(
            select(model)
            .where(
                model.patient_id == patient_id,
                or_(
                    col(model.started_on) >= window.date(),
                    col(model.stopped_on) >= window.date(),
                ),
            )
            .order_by(col(model.id))
        ).all()
    )


def _messages(session: Session, patient_id: int, window: datetime) -> list[CareMessage]:
    return list(
        session.exec(
            select(CareMessage)
            .where(CareMessage.patient_id == patient_id, col(CareMessage.created_at) >= window)
            .order_by(col(CareMessage.created_at), col(CareMessage.id))
        ).all()
    )


def _lab_orders(
    session: Session, patient_id: int, since: datetime
) -> tuple[list[LabOrder], list[LabOrder]]:
    """Orders received since, and orders still pending (whenever ordered)."""
    orders = list(
        session.exec(
            select(LabOrder)
            .where(
                LabOrder.patient_id == patient_id,
                or_(
                    col(LabOrder.status).in_(PENDING_LAB_STATUSES),
                    col(LabOrder.received_on) >= since.date(),
                ),
            )
            .order_by(col(LabOrder.ordered_on), col(LabOrder.id))
        ).all()
    )
    new_labs = [o for o in orders if o.status not in PENDING_LAB_STATUSES]
    pending = [o for o in orders if o.status in PENDING_LAB_STATUSES]
    return new_labs, pending


def _referral_moves(
    session: Session, patient_id: int, since: datetime
) -> list[tuple[ReferralEvent, Referral]]:
    """Every referral event of the patient's since, with its referral, in order."""
    return [
        (event, referral)
        for event, referral in session.exec(
            select(ReferralEvent, Referral)
            .join(Referral, col(Referral.id) == ReferralEvent.referral_id)
            .where(Referral.patient_id == patient_id, col(ReferralEvent.at) >= since)
            .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
        ).all()
    ]
