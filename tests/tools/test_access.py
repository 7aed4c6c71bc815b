"""Roles from practitioner records, the access matrix, patient scope and audited denials."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from db.models import Affiliation, AuditEvent, Discipline, PractitionerStatus
from tests.support import factories
from tests.support.chat import build_practice
from tools.access import (
    ROLE_CATEGORIES,
    AccessDenied,
    Actor,
    Category,
    Role,
    actor_for,
    categories_for,
    patients_in_scope,
    require,
    role_for,
)


@pytest.mark.parametrize(
    ("discipline", "role"),
    [
        (Discipline.PHYSICIAN, Role.PHYSICIAN),
        (Discipline.ADMIN, Role.STAFF),
        (Discipline.ACUPUNCTURE, Role.PRACTITIONER),
        (Discipline.NUTRITIONAL_THERAPY, Role.PRACTITIONER),
        (Discipline.NURSE, Role.PRACTITIONER),
    ],
)
def test_role_comes_from_the_practitioner_record(
    session: Session, discipline: Discipline, role: Role
) -> None:
    person = factories.practitioner(session, discipline=discipline)
    assert role_for(person) is role
    assert actor_for(session=session, practitioner_id=person.id).role is role  # type: ignore[arg-type]


def test_external_and_inactive_people_have_no_access(session: Session) -> None:
    external = factories.practitioner(
        session, discipline=Discipline.GASTROENTEROLOGY, affiliation=Affiliation.EXTERNAL
    )
    gone = factories.practitioner(session, status=PractitionerStatus.INACTIVE)
    for person in (external, gone):
        with pytest.raises(AccessDenied):
            role_for(person)


def test_staff_never_see_clinical_notes_or_lab_values() -> None:
    staff = ROLE_CATEGORIES[Role.STAFF]
    for clinical in (
        Category.NOTES,
        Category.LAB_VALUES,
        Category.CLINICAL_SUMMARY,
        Category.REFERRALS_CLINICAL,
        Category.MESSAGES,
        Category.SUPPLEMENTS,
    ):
        assert clinical not in staff
    for admin in (Category.SCHEDULING, Category.TASKS, Category.INTAKE, Category.REFERRALS_ADMIN):
        assert admin in staff


def test_practitioners_get_what_their_discipline_needs() -> None:
    acupuncture = categories_for(Role.PRACTITIONER, Discipline.ACUPUNCTURE)
    nutrition = categories_for(Role.PRACTITIONER, Discipline.NUTRITIONAL_THERAPY)
    assert Category.NOTES in acupuncture and Category.LAB_VALUES not in acupuncture
    assert {Category.LAB_VALUES, Category.SUPPLEMENTS} <= nutrition
    assert Category.PROTOCOL_REVIEWS not in nutrition  # a physician's decision
    assert categories_for(Role.PHYSICIAN, Discipline.PHYSICIAN) >= nutrition


def test_practitioners_see_only_patients_in_their_programmes(session: Session) -> None:
    p = build_practice(session)
    acu = actor_for(session=session, practitioner_id=p.acupuncturist)
    doc = actor_for(session=session, practitioner_id=p.physician)
    desk = actor_for(session=session, practitioner_id=p.staff)
    assert patients_in_scope(session=session, actor=acu) == {p.patient}
    assert patients_in_scope(session=session, actor=doc) is None  # every patient
    assert patients_in_scope(session=session, actor=desk) is None
    require(session=session, actor=acu, needs={Category.NOTES}, patient_id=p.patient)


def _denials(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "denied")).all())


def test_a_denial_is_audited_and_names_no_patient_data(session: Session) -> None:
    p = build_practice(session)
    acu = actor_for(session=session, practitioner_id=p.acupuncturist)
    with pytest.raises(AccessDenied) as outside:
        require(session=session, actor=acu, needs={Category.NOTES}, patient_id=p.other_patient)
    desk = actor_for(session=session, practitioner_id=p.staff)
    with pytest.raises(AccessDenied) as clinical:
        require(session=session, actor=desk, needs={Category.NOTES}, patient_id=p.patient)
    session.commit()
    assert "not in a programme you work in" in str(outside.value)
    assert "no access to notes" in str(clinical.value)
    for text in (str(outside.value), str(clinical.value)):
        assert "Bob" not in text and "Ada" not in text
    rows = _denials(session)
    assert [(r.actor, r.patient_id) for r in rows] == [
        (acu.label, p.other_patient),
        (desk.label, p.patient),
    ]


def test_actor_labels_are_ids_not_names() -> None:
    actor = Actor(7, Role.PHYSICIAN, Discipline.PHYSICIAN)
    assert actor.label == "practitioner:7"
    assert actor.can(Category.NOTES, Category.LAB_VALUES)
    assert not actor.can(Category.AUDIT)
