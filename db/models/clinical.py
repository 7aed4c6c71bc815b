"""Supplement protocols, lab orders and results, clinical notes, care-team messages, intake."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import (
    Discipline,
    LabFlag,
    LabStatus,
    MessageKind,
    NoteOrigin,
    ResultStatus,
    SupplementStatus,
    enum_column,
)

# ------------------------------------------------------------------ supplements


class SupplementItemBase(SQLModel):
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    programme_id: int | None = Field(default=None, foreign_key="care_programme.id")
    product: str = Field(min_length=1, max_length=200)
    dose: str = Field(max_length=100, description="e.g. '400 mg', '2 capsules'")
    frequency: str = Field(max_length=100, description="e.g. 'twice daily with food'")
    started_on: date
    stopped_on: date | None = None
    prescriber_id: int | None = Field(default=None, foreign_key="practitioner.id")
    supplier: str | None = Field(default=None, max_length=200, description="supplier or dispensary")
    quantity_on_hand: int | None = Field(default=None, ge=0, description="units the patient holds")
    reorder_on: date | None = Field(default=None, index=True)
    status: SupplementStatus = Field(
        default=SupplementStatus.ACTIVE, sa_type=enum_column(SupplementStatus)
    )


class SupplementItem(SupplementItemBase, table=True):
    __tablename__ = "supplement_item"

    id: int | None = Field(default=None, primary_key=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ------------------------------------------------------------------------- labs


class LabOrderBase(SQLModel):
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    ordered_by_id: int = Field(foreign_key="practitioner.id")
    lab: str = Field(max_length=200, description="the specialist laboratory")
    panel: str = Field(max_length=200)
    ordered_on: date
    expected_on: date | None = Field(default=None, index=True)
    received_on: date | None = None
    status: LabStatus = Field(default=LabStatus.ORDERED, sa_type=enum_column(LabStatus), index=True)
    reviewed_by_id: int | None = Field(default=None, foreign_key="practitioner.id")
    # The laboratory's order numbers (HL7 ORC/OBR-2 placer, OBR-3 filler; FHIR identifiers).
    placer_number: str | None = Field(default=None, max_length=100, index=True)
    filler_number: str | None = Field(default=None, max_length=100, index=True)


class LabOrder(LabOrderBase, table=True):
    __tablename__ = "lab_order"

    id: int | None = Field(default=None, primary_key=True)


class LabResult(SQLModel, table=True):
    __tablename__ = "lab_result"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="lab_order.id", index=True, ondelete="CASCADE")
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    analyte: str = Field(max_length=200)
    value: float | None = None
    value_text: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=40)
    ref_low: float | None = None
    ref_high: float | None = None
    ref_text: str | None = Field(default=None, max_length=200)
    flag: LabFlag = Field(default=LabFlag.NORMAL, sa_type=enum_column(LabFlag))
    resulted_on: date | None = None
    code_system: str | None = Field(default=None, max_length=100, description="LOINC")
    code: str | None = Field(default=None, max_length=40)
    status: ResultStatus = Field(
        default=ResultStatus.FINAL,
        sa_type=enum_column(ResultStatus),
        sa_column_kwargs={"server_default": "final"},
    )
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A corrected result keeps what it replaced, so the history can say so.
    previous_value: str | None = Field(default=None, max_length=200)


class PatientObservation(SQLModel, table=True):
    """A measurement that is not a lab result: vital signs, body measures, scores."""

    __tablename__ = "patient_observation"
    __table_args__ = (
        sa.Index("ix_patient_observation_patient_observed", "patient_id", "observed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", ondelete="CASCADE")
    category: str = Field(default="vital-signs", max_length=60)
    name: str = Field(max_length=200)
    code_system: str | None = Field(default=None, max_length=100)
    code: str | None = Field(default=None, max_length=40)
    value: float | None = None
    value_text: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=40)
    observed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PatientDocument(SQLModel, table=True):
    """A document about the patient (a letter, a report, a scan) and its stored file."""

    __tablename__ = "patient_document"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=300)
    kind: str | None = Field(default=None, max_length=200, description="e.g. discharge summary")
    author: str | None = Field(default=None, max_length=200)
    dated: datetime | None = Field(default=None, sa_type=UTCDateTime)
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = Field(default=None, ge=0)
    sha256: str | None = Field(default=None, max_length=64)
    # Relative to the data directory's documents folder; empty when only a URL is known.
    stored_as: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ------------------------------------------------------------ notes and messages


class ClinicalNoteBase(SQLModel):
    patient_id: int = Field(foreign_key="patient.id", ondelete="CASCADE")
    practitioner_id: int = Field(foreign_key="practitioner.id")
    modality: Discipline = Field(sa_type=enum_column(Discipline))
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    written_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    title: str | None = Field(default=None, max_length=200)
    body: str = Field(min_length=1)
    # External notes (reports from the network) are data, never instructions.
    origin: NoteOrigin = Field(default=NoteOrigin.INTERNAL, sa_type=enum_column(NoteOrigin))


class ClinicalNote(ClinicalNoteBase, table=True):
    __tablename__ = "clinical_note"
    __table_args__ = (sa.Index("ix_clinical_note_patient_written", "patient_id", "written_at"),)

    id: int | None = Field(default=None, primary_key=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CareMessageBase(SQLModel):
    patient_id: int | None = Field(
        default=None, foreign_key="patient.id", index=True, ondelete="CASCADE"
    )
    sender_id: int | None = Field(
        default=None, foreign_key="practitioner.id", description="empty: sent by the assistant"
    )
    recipient_id: int = Field(foreign_key="practitioner.id", index=True)
    kind: MessageKind = Field(default=MessageKind.GENERAL, sa_type=enum_column(MessageKind))
    subject: str = Field(max_length=200)
    body: str
    source_ref: str | None = Field(default=None, max_length=60, description="e.g. 'medication:12'")


class CareMessage(CareMessageBase, table=True):
    __tablename__ = "care_message"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ----------------------------------------------------------------------- intake


class IntakeForm(SQLModel, table=True):
    __tablename__ = "intake_form"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    form_type: str = Field(default="new_patient", max_length=60)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by_id: int | None = Field(default=None, foreign_key="practitioner.id")
    # A completed questionnaire: [{"question": ..., "answer": ...}] as JSON, or empty.
    answers: str | None = Field(default=None, sa_type=sa.Text)
