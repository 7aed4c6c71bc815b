"""The practice's tables. Importing this package registers every table on SQLModel.metadata."""

from tools.models.appointments import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentBase,
    AppointmentPublic,
)
from tools.models.clinical import (
    CareMessage,
    ClinicalNote,
    IntakeForm,
    LabOrder,
    LabResult,
    SupplementItem,
)
from tools.models.enums import *  # noqa: F403
from tools.models.people import (
    Patient,
    PatientAllergy,
    PatientBase,
    PatientCondition,
    PatientCreate,
    PatientMedication,
    PatientPublic,
    Practitioner,
    PractitionerCreate,
    PractitionerPublic,
    WorkingHours,
)
from tools.models.programmes import CareProgramme, ProgrammeElement
from tools.models.referrals import (
    Referral,
    ReferralCreate,
    ReferralEvent,
    ReferralPublic,
)
from tools.models.work import (
    AuditEvent,
    ClinicalProtocol,
    PracticeMeta,
    Task,
    TaskCreate,
    TaskPublic,
)

__all__ = [
    "ACTIVE_APPOINTMENT_STATUSES",
    "Appointment",
    "AppointmentBase",
    "AppointmentPublic",
    "AuditEvent",
    "CareMessage",
    "CareProgramme",
    "ClinicalNote",
    "ClinicalProtocol",
    "IntakeForm",
    "LabOrder",
    "LabResult",
    "Patient",
    "PatientAllergy",
    "PatientBase",
    "PatientCondition",
    "PatientCreate",
    "PatientMedication",
    "PatientPublic",
    "PracticeMeta",
    "Practitioner",
    "PractitionerCreate",
    "PractitionerPublic",
    "ProgrammeElement",
    "Referral",
    "ReferralCreate",
    "ReferralEvent",
    "ReferralPublic",
    "SupplementItem",
    "Task",
    "TaskCreate",
    "TaskPublic",
    "WorkingHours",
]
