"""CarePlan and Goal -> care programmes and elements: fields, cadence, versions, goals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from db.models import (
    CareProgramme,
    Discipline,
    ElementStatus,
    ProgrammeElement,
    ProgrammeStatus,
)
from tests.support import factories
from tests.support.fhir_mapped import import_resources, known_practitioner
from tools.interop.fhir.mapping.values import timing_text

SNOMED = "http://snomed.info/sct"


def activity(code: str, display: str, **detail: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "ServiceRequest",
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
        "status": "in-progress",
    }
    body.update(detail)
    return {"detail": body}


def care_plan(**extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": "cp-1",
        "status": "active",
        "intent": "plan",
        "category": [
            {"coding": [{"code": "assess-plan"}]},
            {"text": "Chronic pain programme"},
        ],
        "subject": {"reference": "Patient/p1"},
        "period": {"start": "2026-01-05"},
        "author": {"reference": "Practitioner/dr-lee"},
        "goal": [{"reference": "Goal/g1"}],
        "activity": [
            activity(
                "44868003",
                "Acupuncture",
                scheduledTiming={"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}},
            ),
            activity(
                "61310001",
                "Nutrition education",
                description="Anti-inflammatory diet review",
                status="not-started",
                scheduledString="every 2 weeks",
                performer=[{"reference": "Practitioner/nt"}],
            ),
        ],
    }
    raw.update(extra)
    return raw


GOAL = {
    "resourceType": "Goal",
    "id": "g1",
    "lifecycleStatus": "active",
    "description": {"text": "Walk 5 km without pain"},
    "subject": {"reference": "Patient/p1"},
}


def programmes(session: Session) -> list[CareProgramme]:
    return list(session.exec(select(CareProgramme).order_by(CareProgramme.id)).all())  # type: ignore[arg-type]


def elements(session: Session) -> list[ProgrammeElement]:
    stmt = select(ProgrammeElement).order_by(ProgrammeElement.id)  # type: ignore[arg-type]
    return list(session.exec(stmt).all())


def test_a_care_plan_becomes_a_programme_with_elements(session: Session) -> None:
    lee = known_practitioner(session, resource_id="dr-lee")
    therapist = known_practitioner(
        session, resource_id="nt", discipline=Discipline.NUTRITIONAL_THERAPY
    )
    patient = factories.patient(session)
    ctx = import_resources(session=session, resources=[GOAL, care_plan()], patient_id=patient.id)
    [programme] = programmes(session)
    assert programme.title == "Chronic pain programme"
    assert programme.goal == "Walk 5 km without pain"
    assert programme.lead_practitioner_id == lee.id
    assert programme.status == ProgrammeStatus.ACTIVE
    assert programme.started_on == date(2026, 1, 5)
    acupuncture, nutrition = elements(session)
    assert acupuncture.modality == Discipline.ACUPUNCTURE  # from the code: lead is a physician
    assert acupuncture.practitioner_id == lee.id
    assert acupuncture.goal == "Acupuncture"
    assert acupuncture.cadence == "weekly"
    assert acupuncture.status == ElementStatus.ACTIVE
    assert acupuncture.started_on == date(2026, 1, 5)
    assert nutrition.modality == Discipline.NUTRITIONAL_THERAPY
    assert nutrition.practitioner_id == therapist.id
    assert nutrition.goal == "Anti-inflammatory diet review"
    assert nutrition.cadence == "every 2 weeks"
    assert nutrition.status == ElementStatus.PLANNED
    assert {e.programme_id for e in elements(session)} == {programme.id}
    assert ctx.tally.rows == {("care_programme", "created"): 1, ("programme_element", "created"): 2}


def test_the_performer_discipline_decides_the_modality(session: Session) -> None:
    known_practitioner(session, resource_id="osteo", discipline=Discipline.OSTEOPATHY)
    patient = factories.patient(session)
    plan = care_plan(
        activity=[
            activity("1234", "Manual therapy", performer=[{"reference": "Practitioner/osteo"}])
        ]
    )
    import_resources(session=session, resources=[plan], patient_id=patient.id)
    assert elements(session)[0].modality == Discipline.OSTEOPATHY


@pytest.mark.parametrize(
    ("display", "modality"),
    [
        ("Osteopathic manipulative treatment", Discipline.OSTEOPATHY),
        ("Health coaching session", Discipline.HEALTH_COACHING),
        ("Mindfulness-based stress reduction", Discipline.MIND_BODY),
        ("Physiotherapy", Discipline.PHYSIOTHERAPY),
        ("Therapeutic massage", Discipline.MASSAGE),
        ("Psychotherapy", Discipline.PSYCHOTHERAPY),
        ("Review of thyroid function", Discipline.PHYSICIAN),
    ],
)
def test_modality_from_words(session: Session, display: str, modality: Discipline) -> None:
    patient = factories.patient(session)
    plan = care_plan(activity=[activity("999", display)])
    import_resources(session=session, resources=[plan], patient_id=patient.id)
    assert elements(session)[0].modality == modality


@pytest.mark.parametrize(
    ("repeat", "text"),
    [
        ({"frequency": 1, "period": 1, "periodUnit": "wk"}, "weekly"),
        ({"frequency": 1, "period": 2, "periodUnit": "wk"}, "every 2 weeks"),
        ({"frequency": 2, "period": 1, "periodUnit": "wk"}, "twice weekly"),
        ({"frequency": 3, "period": 1, "periodUnit": "d"}, "3 times daily"),
        ({"period": 1, "periodUnit": "mo"}, "monthly"),
        ({"frequency": 1, "period": 1, "periodUnit": "wk", "count": 6}, "weekly (6 sessions)"),
    ],
)
def test_cadence_from_timing(repeat: dict[str, Any], text: str) -> None:
    assert timing_text({"repeat": repeat}) == text


def test_statuses(session: Session) -> None:
    patient = factories.patient(session)
    statuses = ["scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped"]
    plan = care_plan(
        status="on-hold",
        period={"start": "2026-01-05", "end": "2026-06-30"},
        activity=[activity(str(n), f"Step {n}", status=s) for n, s in enumerate(statuses)],
    )
    import_resources(session=session, resources=[plan], patient_id=patient.id)
    [programme] = programmes(session)
    assert programme.status == ProgrammeStatus.PAUSED
    assert programme.ended_on == date(2026, 6, 30)
    assert [e.status for e in elements(session)] == [
        ElementStatus.PLANNED,
        ElementStatus.ACTIVE,
        ElementStatus.PAUSED,
        ElementStatus.COMPLETED,
        ElementStatus.STOPPED,
        ElementStatus.STOPPED,
    ]
    assert [e.ended_on for e in elements(session)][-3:] == [date(2026, 6, 30)] * 3


def test_revoked_is_completed_and_draft_is_not_imported(session: Session) -> None:
    patient = factories.patient(session)
    revoked = care_plan(id="cp-r", status="revoked")
    draft = care_plan(id="cp-d", status="draft")
    ctx = import_resources(session=session, resources=[revoked, draft], patient_id=patient.id)
    assert [p.status for p in programmes(session)] == [ProgrammeStatus.COMPLETED]
    assert ctx.tally.skipped == {"CarePlan": 1}
    assert [p.field for p in ctx.tally.problems] == ["status"]


def test_title_from_description_and_default(session: Session) -> None:
    patient = factories.patient(session)
    described = care_plan(id="cp-a", category=None, goal=None, description="Gut healing plan")
    bare = care_plan(id="cp-b", category=None, goal=None)
    import_resources(session=session, resources=[described, bare], patient_id=patient.id)
    assert [(p.title, p.goal) for p in programmes(session)] == [
        ("Gut healing plan", None),
        ("Care plan", None),
    ]


def test_reimport_unchanged_then_a_removed_activity_is_stopped(session: Session) -> None:
    patient = factories.patient(session)
    plan = care_plan()
    import_resources(session=session, resources=[plan], patient_id=patient.id)
    again = import_resources(session=session, resources=[plan], patient_id=patient.id)
    assert set(again.tally.rows) == {("care_programme", "unchanged")}
    # version 2 drops acupuncture and lists nutrition first: nutrition keeps its row
    newer = care_plan(
        meta={"versionId": "2", "lastUpdated": "2026-04-01T08:00:00Z"},
        activity=[plan["activity"][1]],
    )
    ctx = import_resources(session=session, resources=[newer], patient_id=patient.id)
    acupuncture, nutrition = elements(session)
    assert acupuncture.status == ElementStatus.STOPPED
    assert acupuncture.ended_on is not None
    assert nutrition.status == ElementStatus.PLANNED and nutrition.goal.startswith("Anti")
    assert len(elements(session)) == 2
    assert ctx.tally.rows[("programme_element", "updated")] == 2
    older = care_plan(meta={"versionId": "1"}, title="Old title")
    stale = import_resources(session=session, resources=[older], patient_id=patient.id)
    assert set(stale.tally.rows) == {("care_programme", "stale")}
    assert programmes(session)[0].title == "Chronic pain programme"
    assert acupuncture.status == ElementStatus.STOPPED


def test_entered_in_error_later_closes_the_programme(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[care_plan()], patient_id=patient.id)
    withdrawn = care_plan(status="entered-in-error", meta={"versionId": "2"})
    import_resources(session=session, resources=[withdrawn], patient_id=patient.id)
    assert programmes(session)[0].status == ProgrammeStatus.COMPLETED
    assert {e.status for e in elements(session)} == {ElementStatus.STOPPED}


def test_a_reference_activity_reads_the_request(session: Session) -> None:
    patient = factories.patient(session)
    request = {
        "resourceType": "ServiceRequest",
        "id": "sr-1",
        "status": "completed",
        "intent": "order",
        "code": {"text": "Acupuncture course"},
        "subject": {"reference": "Patient/p1"},
    }
    plan = care_plan(activity=[{"reference": {"reference": "ServiceRequest/sr-1"}}])
    import_resources(session=session, resources=[request, plan], patient_id=patient.id)
    [element] = elements(session)
    assert element.goal == "Acupuncture course"
    assert element.modality == Discipline.ACUPUNCTURE
    assert element.status == ElementStatus.COMPLETED
    assert element.cadence == "as arranged"


def test_a_goal_alone_is_a_programme_of_its_own(session: Session) -> None:
    patient = factories.patient(session)
    alone = {**GOAL, "id": "g2", "startDate": "2026-02-01"}
    ctx = import_resources(session=session, resources=[alone], patient_id=patient.id)
    [programme] = programmes(session)
    assert programme.title == "Goal: Walk 5 km without pain"
    assert programme.goal == "Walk 5 km without pain"
    assert programme.started_on == date(2026, 2, 1)
    assert ctx.tally.rows == {("care_programme", "created"): 1}


def test_a_goal_named_by_a_plan_writes_nothing_itself(session: Session) -> None:
    patient = factories.patient(session)
    ctx = import_resources(session=session, resources=[GOAL, care_plan()], patient_id=patient.id)
    assert len(programmes(session)) == 1
    assert ctx.tally.rows[("care_programme", "created")] == 1


def test_problems_name_fields_never_values(session: Session) -> None:
    patient = factories.patient(session)
    undated = care_plan(period=None, title="Secret title")
    ctx = import_resources(session=session, resources=[undated], patient_id=patient.id)
    [problem] = ctx.tally.problems
    assert problem.field == "period.start"
    assert "Secret" not in str(problem)


def test_a_goal_sent_again_alone_stays_with_its_plan(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[GOAL, care_plan()], patient_id=patient.id)
    changed = {**GOAL, "meta": {"versionId": "2"}, "startDate": "2026-02-01"}
    ctx = import_resources(session=session, resources=[changed], patient_id=patient.id)
    assert len(programmes(session)) == 1
    assert not ctx.tally.rows


def test_a_changed_goal_with_its_unchanged_plan_updates_the_goal_text(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[GOAL, care_plan()], patient_id=patient.id)
    changed = {**GOAL, "meta": {"versionId": "2"}, "description": {"text": "Walk 10 km"}}
    ctx = import_resources(session=session, resources=[changed, care_plan()], patient_id=patient.id)
    assert programmes(session)[0].goal == "Walk 10 km"
    assert ctx.tally.rows[("care_programme", "updated")] == 1
