"""Care programmes: one per patient treatment programme, with an element per modality."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel

from db.models.enums import Discipline, ElementStatus, ProgrammeStatus, enum_column


class CareProgrammeBase(SQLModel):
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    goal: str | None = Field(default=None, max_length=1000)
    lead_practitioner_id: int | None = Field(default=None, foreign_key="practitioner.id")
    status: ProgrammeStatus = Field(
        default=ProgrammeStatus.ACTIVE, sa_type=enum_column(ProgrammeStatus)
    )
    started_on: date
    ended_on: date | None = None


class CareProgramme(CareProgrammeBase, table=True):
    __tablename__ = "care_programme"

    id: int | None = Field(default=None, primary_key=True)


class ProgrammeElementBase(SQLModel):
    programme_id: int = Field(foreign_key="care_programme.id", index=True, ondelete="CASCADE")
    # Denormalised so a patient's elements are one indexed lookup.
    patient_id: int = Field(foreign_key="patient.id", index=True, ondelete="CASCADE")
    modality: Discipline = Field(sa_type=enum_column(Discipline))
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True)
    goal: str = Field(max_length=500)
    cadence: str = Field(max_length=60, description="e.g. 'weekly', 'every 2 weeks', 'monthly'")
    status: ElementStatus = Field(default=ElementStatus.ACTIVE, sa_type=enum_column(ElementStatus))
    started_on: date
    ended_on: date | None = None


class ProgrammeElement(ProgrammeElementBase, table=True):
    __tablename__ = "programme_element"

    id: int | None = Field(default=None, primary_key=True)
