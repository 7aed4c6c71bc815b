"""Practitioners (in-house team and external network), their hours, and patients."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow
from db.models.enums import (
    Affiliation,
    ConditionStatus,
    Discipline,
    PatientStatus,
    PractitionerStatus,
    Sex,
    enum_column,
)

# ---------------------------------------------------------------- practitioners


class PractitionerBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    discipline: Discipline = Field(sa_type=enum_column(Discipline), index=True)
    affiliation: Affiliation = Field(default=Affiliation.IN_HOUSE, sa_type=enum_column(Affiliation))
    title: str | None = Field(default=None, max_length=100, description="e.g. 'Dr', 'Lic.Ac.'")
    organisation: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    status: PractitionerStatus = Field(
        default=PractitionerStatus.ACTIVE, sa_type=enum_column(PractitionerStatus)
    )
    specialty: str | None = Field(
        default=None, max_length=200, description="as the outside record names it"
    )


class PractitionerCreate(PractitionerBase):
    pass


class Practitioner(PractitionerBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PractitionerPublic(PractitionerBase):
    id: int


class WorkingHours(SQLModel, table=True):
    """One working window on one weekday, in the practice's local time."""

    __tablename__ = "working_hours"
    __table_args__ = (
        sa.CheckConstraint('"end" > start', name="ck_working_hours_end_after_start"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_working_hours_weekday"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True, ondelete="CASCADE")
    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: time
    end: time


# ---------------------------------------------------------------------- patients


class PatientBase(SQLModel):
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    sex: Sex = Field(default=Sex.UNKNOWN, sa_type=enum_column(Sex))
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=300)
    primary_physician_id: int | None = Field(default=None, foreign_key="practitioner.id")
    primary_care_provider_id: int | None = Field(
        default=None,
        foreign_key="practitioner.id",
        description="the patient's own primary care provider outside the practice",
    )
    deceased_on: date | None = None
    deceased: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    status: PatientStatus = Field(default=PatientStatus.ACTIVE, sa_type=enum_column(PatientStatus))


class PatientCreate(PatientBase):
    pass


class Patient(PatientBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Lower-case, accent-free "given family" for tolerant name search.
    name_key: str = Field(default="", index=True, max_length=201)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class PatientPublic(PatientBase):
    id: int


class PatientCondition(SQLModel, table=True):
    __tablename__ = "patient_condition"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    status: ConditionStatus = Field(
        default=ConditionStatus.ACTIVE, sa_type=enum_column(ConditionStatus)
    )
    onset_on: date | None = None
    code_system: str | None = Field(default=None, max_length=100, description="SNOMED CT, ICD-10")
    code: str | None = Field(default=None, max_length=40)


class PatientAllergy(SQLModel, table=True):
    __tablename__ = "patient_allergy"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    substance: str = Field(max_length=200)
    reaction: str | None = Field(default=None, max_length=200)
    severity: str | None = Field(default=None, max_length=40)
    code_system: str | None = Field(default=None, max_length=100)
    code: str | None = Field(default=None, max_length=40)


class PatientMedication(SQLModel, table=True):
    """A conventional medication the patient takes (current while `stopped_on` is empty)."""

    __tablename__ = "patient_medication"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    dose: str | None = Field(default=None, max_length=100)
    frequency: str | None = Field(default=None, max_length=100)
    started_on: date | None = None
    stopped_on: date | None = None
    prescriber: str | None = Field(default=None, max_length=200)
    code_system: str | None = Field(default=None, max_length=100, description="RxNorm, dm+d")
    code: str | None = Field(default=None, max_length=40)
