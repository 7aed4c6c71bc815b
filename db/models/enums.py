"""Vocabularies of the practice, stored as their string values (no native DB enums)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa


def enum_column(enum: type[StrEnum], **kwargs: Any) -> Any:
    """A VARCHAR column holding an enum's values (portable across SQLite and PostgreSQL)."""
    return sa.Enum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **kwargs,
    )


class Discipline(StrEnum):
    PHYSICIAN = "physician"
    NURSE = "nurse"
    ACUPUNCTURE = "acupuncture"
    OSTEOPATHY = "osteopathy"
    HEALTH_COACHING = "health_coaching"
    NUTRITIONAL_THERAPY = "nutritional_therapy"
    MASSAGE = "massage"
    ADMIN = "admin"
    # Disciplines seen mostly in the external network.
    PSYCHOTHERAPY = "psychotherapy"
    PHYSIOTHERAPY = "physiotherapy"
    GASTROENTEROLOGY = "gastroenterology"
    ENDOCRINOLOGY = "endocrinology"
    RHEUMATOLOGY = "rheumatology"
    GYNAECOLOGY = "gynaecology"
    NEUROLOGY = "neurology"
    DIETETICS = "dietetics"
    MIND_BODY = "mind_body"
    PAIN_MEDICINE = "pain_medicine"


class Affiliation(StrEnum):
    IN_HOUSE = "in_house"
    EXTERNAL = "external"


class PractitionerStatus(StrEnum):
    ACTIVE = "active"
    ON_LEAVE = "on_leave"
    INACTIVE = "inactive"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class PatientStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ConditionStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


class ProgrammeStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"


class ElementStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    STOPPED = "stopped"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class BillingTrack(StrEnum):
    INSURANCE = "insurance"
    DIRECT_PAY = "direct_pay"


class ReferralDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Urgency(StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"


class ReferralStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    SEEN = "seen"
    REPORT_RECEIVED = "report_received"
    CLOSED = "closed"
    DECLINED = "declined"


class SupplementStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class LabStatus(StrEnum):
    ORDERED = "ordered"
    COLLECTED = "collected"
    RECEIVED = "received"
    REVIEWED = "reviewed"
    CANCELLED = "cancelled"


class LabFlag(StrEnum):
    NORMAL = "normal"
    LOW = "low"
    HIGH = "high"
    ABNORMAL = "abnormal"
    CRITICAL = "critical"


class NoteOrigin(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class MessageKind(StrEnum):
    GENERAL = "general"
    MEDICATION_CHANGE = "medication_change"
    SUPPLEMENT_CHANGE = "supplement_change"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class ResultStatus(StrEnum):
    """A lab result's status as the laboratory reports it (HL7 OBX-11, FHIR Observation)."""

    PRELIMINARY = "preliminary"
    FINAL = "final"
    CORRECTED = "corrected"
    CANCELLED = "cancelled"


class ImportFormat(StrEnum):
    FHIR = "fhir"
    HL7 = "hl7"
    CSV = "csv"


class ImportReviewStatus(StrEnum):
    """An incoming patient that matched an existing one by name and birth date only."""

    OPEN = "open"
    MERGED = "merged"  # a person decided it is the existing patient
    CREATED = "created"  # a person decided it is a new patient
    REJECTED = "rejected"  # not imported at all
