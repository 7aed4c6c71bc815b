"""Roles and the access policy: who may see or change which kind of data, for which patients.

Plain data and functions, decided by the server from the user's practitioner record, so the
agent's toolbox and (later) the HTTP API enforce one policy. A denial raises AccessDenied and
adds an audit row to the caller's transaction: the caller commits it even though the work
was refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from db.models import (
    Affiliation,
    Discipline,
    Practitioner,
    PractitionerStatus,
    ProgrammeElement,
    ProgrammeStatus,
)
from tools import audit
from tools.errors import SteveError
from tools.programme import working_elements
from tools.registry import get_practitioner


class AccessDenied(SteveError):
    """The acting user's role does not allow this (the message names no patient data)."""


class Role(StrEnum):
    PHYSICIAN = "physician"
    PRACTITIONER = "practitioner"  # in-house allied practitioner
    STAFF = "staff"  # reception, practice management
    ADMIN = "admin"  # user administration (the HTTP API); no clinical data


class Category(StrEnum):
    """Kinds of data a tool reads or changes."""

    DIRECTORY = "directory"  # practitioners, their disciplines and hours
    DEMOGRAPHICS = "demographics"  # name, date of birth, contact details
    SCHEDULING = "scheduling"  # appointments, free slots, bookings
    TASKS = "tasks"
    INTAKE = "intake"  # intake-form state (sent, received, reviewed)
    REFERRALS_ADMIN = "referrals_admin"  # who to whom, state, dates, urgency
    REFERRALS_CLINICAL = "referrals_clinical"  # the reason and the outcome note
    LAB_ORDERS = "lab_orders"  # which panels are pending or late (no values)
    LAB_VALUES = "lab_values"  # results, flags and reference ranges
    PROGRAMME = "programme"  # care programmes, their elements and goals
    CLINICAL_SUMMARY = "clinical_summary"  # conditions, allergies, medications
    SUPPLEMENTS = "supplements"
    NOTES = "notes"  # clinical notes, incl. external practitioners' reports
    MESSAGES = "messages"  # care-team messages about a patient
    LITERATURE = "literature"  # articles, evidence summaries
    PROTOCOL_REVIEWS = "protocol_reviews"  # acknowledging a review changes a practice protocol
    PREFERENCES = "preferences"  # the user's own working preferences
    AUDIT = "audit"  # reading the audit trail
    IMPORT = "import"  # bringing records in from other systems (FHIR, HL7, CSV) and out again


C = Category
_ADMINISTRATIVE = frozenset(
    {C.DIRECTORY, C.DEMOGRAPHICS, C.SCHEDULING, C.TASKS, C.INTAKE, C.REFERRALS_ADMIN, C.LAB_ORDERS}
)

# The matrix. Practitioners get the base set plus what their discipline needs (below).
ROLE_CATEGORIES: dict[Role, frozenset[Category]] = {
    Role.PHYSICIAN: frozenset(Category) - {C.AUDIT, C.IMPORT},
    Role.PRACTITIONER: _ADMINISTRATIVE
    | {C.REFERRALS_CLINICAL, C.PROGRAMME, C.CLINICAL_SUMMARY, C.NOTES, C.MESSAGES, C.LITERATURE}
    | {C.PREFERENCES},
    Role.STAFF: _ADMINISTRATIVE,
    Role.ADMIN: _ADMINISTRATIVE | {C.AUDIT, C.IMPORT},
}
DISCIPLINE_EXTRAS: dict[Discipline, frozenset[Category]] = {
    Discipline.NUTRITIONAL_THERAPY: frozenset({C.SUPPLEMENTS, C.LAB_VALUES}),
    Discipline.NURSE: frozenset({C.SUPPLEMENTS, C.LAB_VALUES}),
    Discipline.HEALTH_COACHING: frozenset({C.SUPPLEMENTS}),
}
# Roles that see every patient; the others only patients whose programme they work in.
ALL_PATIENTS: frozenset[Role] = frozenset({Role.PHYSICIAN, Role.STAFF, Role.ADMIN})


@dataclass(frozen=True)
class Actor:
    """The acting user, as the server established it (never as a model or a client said)."""

    practitioner_id: int
    role: Role
    discipline: Discipline

    @property
    def label(self) -> str:
        """How audit rows name the actor (an id, no name)."""
        return f"practitioner:{self.practitioner_id}"

    @property
    def categories(self) -> frozenset[Category]:
        return categories_for(self.role, self.discipline)

    def can(self, *needed: Category) -> bool:
        return set(needed) <= self.categories


def categories_for(role: Role, discipline: Discipline) -> frozenset[Category]:
    extra = DISCIPLINE_EXTRAS.get(discipline, frozenset()) if role == Role.PRACTITIONER else None
    return ROLE_CATEGORIES[role] | (extra or frozenset())


def role_for(practitioner: Practitioner) -> Role:
    """The role a practitioner record implies; the external network and leavers get none."""
    if practitioner.affiliation != Affiliation.IN_HOUSE:
        raise AccessDenied(f"practitioner {practitioner.id} is external and has no access")
    if practitioner.status == PractitionerStatus.INACTIVE:
        raise AccessDenied(f"practitioner {practitioner.id} is inactive and has no access")
    if practitioner.discipline == Discipline.PHYSICIAN:
        return Role.PHYSICIAN
    if practitioner.discipline == Discipline.ADMIN:
        return Role.STAFF
    return Role.PRACTITIONER


def actor_for(*, session: Session, practitioner_id: int) -> Actor:
    """The acting user for a practitioner id (NotFound, or AccessDenied without a role)."""
    person = get_practitioner(session=session, practitioner_id=practitioner_id)
    assert person.id is not None
    return Actor(person.id, role_for(person), Discipline(person.discipline))


def _programme_patients(session: Session, practitioner_id: int) -> set[int]:
    stmt = working_elements(
        ProgrammeElement.patient_id,
        programme_statuses=[ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED],
    ).where(ProgrammeElement.practitioner_id == practitioner_id)
    return set(session.exec(stmt).all())


def patients_in_scope(*, session: Session, actor: Actor) -> set[int] | None:
    """The patient ids the actor may see; None means every patient."""
    if actor.role in ALL_PATIENTS:
        return None
    return _programme_patients(session, actor.practitioner_id)


def _deny(
    session: Session, actor: Actor, message: str, entity: str, patient_id: int | None, origin: str
) -> AccessDenied:
    audit.record(
        session=session,
        actor=actor.label,
        action="denied",
        entity=entity,
        patient_id=patient_id,
        origin=origin,
    )
    return AccessDenied(message)


def require(
    *,
    session: Session,
    actor: Actor,
    needs: frozenset[Category] | set[Category],
    patient_id: int | None = None,
    entity: str = "tool",
    origin: str = "agent",
) -> None:
    """Refuse (audited) unless the actor's role covers `needs` and, given one, the patient."""
    missing = set(needs) - actor.categories
    if missing:
        names = ", ".join(sorted(m.value for m in missing))
        raise _deny(
            session,
            actor,
            f"the {actor.role.value} role has no access to {names}",
            entity,
            patient_id,
            origin,
        )
    if patient_id is None or actor.role in ALL_PATIENTS:
        return
    if patient_id not in _programme_patients(session, actor.practitioner_id):
        raise _deny(
            session,
            actor,
            f"patient {patient_id} is not in a programme you work in",
            entity,
            patient_id,
            origin,
        )
