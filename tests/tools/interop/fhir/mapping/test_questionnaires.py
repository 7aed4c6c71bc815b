"""QuestionnaireResponse -> intake forms with their answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from db.models import IntakeForm
from tests.support import factories
from tests.support.fhir_mapped import import_resources


def response(**extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-1",
        "questionnaire": "https://forms.example.org/Questionnaire/new-patient-intake|2.1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "authored": "2026-02-10T08:30:00+01:00",
        "item": [
            {
                "linkId": "1",
                "text": "About you",
                "item": [
                    {
                        "linkId": "1.1",
                        "text": "Main concern",
                        "answer": [{"valueString": "Fatigue"}],
                    },
                    {"linkId": "1.2", "answer": [{"valueInteger": 7}]},
                ],
            },
            {
                "linkId": "2",
                "text": "Do you smoke?",
                "answer": [
                    {
                        "valueBoolean": True,
                        "item": [
                            {
                                "linkId": "2.1",
                                "text": "How many a day?",
                                "answer": [{"valueQuantity": {"value": 5, "unit": "cigarettes"}}],
                            }
                        ],
                    }
                ],
            },
            {
                "linkId": "3",
                "text": "Diet",
                "answer": [
                    {"valueCoding": {"code": "veg", "display": "Vegetarian"}},
                    {"valueCoding": {"code": "gf"}},
                ],
            },
            {"linkId": "4", "text": "Unanswered"},
            {"linkId": "5", "text": "Last check-up", "answer": [{"valueDate": "2025-11-03"}]},
        ],
    }
    raw.update(extra)
    return raw


def forms(session: Session) -> list[IntakeForm]:
    return list(session.exec(select(IntakeForm).order_by(IntakeForm.id)).all())  # type: ignore[arg-type]


def test_a_completed_response_is_a_received_form_with_flat_answers(session: Session) -> None:
    patient = factories.patient(session)
    ctx = import_resources(session=session, resources=[response()], patient_id=patient.id)
    [form] = forms(session)
    assert form.patient_id == patient.id
    assert form.form_type == "new_patient_intake"
    assert form.received_at == datetime(2026, 2, 10, 7, 30, tzinfo=UTC)
    assert json.loads(form.answers or "") == [
        {"question": "Main concern", "answer": "Fatigue"},
        {"question": "1.2", "answer": "7"},
        {"question": "Do you smoke?", "answer": "yes"},
        {"question": "How many a day?", "answer": "5 cigarettes"},
        {"question": "Diet", "answer": "Vegetarian; gf"},
        {"question": "Last check-up", "answer": "2025-11-03"},
    ]
    assert ctx.tally.rows == {("intake_form", "created"): 1}


def test_form_type_from_the_questionnaire_title(session: Session) -> None:
    patient = factories.patient(session)
    questionnaire = {
        "resourceType": "Questionnaire",
        "id": "q1",
        "url": "https://forms.example.org/Questionnaire/new-patient-intake",
        "status": "active",
        "title": "PHQ-9 Depression",
    }
    import_resources(session=session, resources=[questionnaire, response()], patient_id=patient.id)
    assert forms(session)[0].form_type == "phq_9_depression"


def test_in_progress_is_not_received_and_no_questionnaire_is_generic(session: Session) -> None:
    patient = factories.patient(session)
    draft = response(status="in-progress", questionnaire=None)
    import_resources(session=session, resources=[draft], patient_id=patient.id)
    [form] = forms(session)
    assert form.received_at is None
    assert form.form_type == "questionnaire"
    assert form.answers and "Fatigue" in form.answers


def test_amended_is_received_and_entered_in_error_skipped(session: Session) -> None:
    patient = factories.patient(session)
    amended = response(id="qr-a", status="amended")
    wrong = response(id="qr-e", status="entered-in-error")
    ctx = import_resources(session=session, resources=[amended, wrong], patient_id=patient.id)
    [form] = forms(session)
    assert form.received_at is not None
    assert ctx.tally.skipped == {"QuestionnaireResponse": 1}
    assert [p.field for p in ctx.tally.problems] == ["status"]


def test_reimport_unchanged_newer_updates_stale_ignored(session: Session) -> None:
    patient = factories.patient(session)
    import_resources(session=session, resources=[response()], patient_id=patient.id)
    again = import_resources(session=session, resources=[response()], patient_id=patient.id)
    assert again.tally.rows == {("intake_form", "unchanged"): 1}
    newer = response(
        meta={"versionId": "3"},
        item=[{"linkId": "1", "text": "Main concern", "answer": [{"valueString": "Sleep"}]}],
    )
    import_resources(session=session, resources=[newer], patient_id=patient.id)
    older = response(meta={"versionId": "2"})
    stale = import_resources(session=session, resources=[older], patient_id=patient.id)
    assert stale.tally.rows == {("intake_form", "stale"): 1}
    [form] = forms(session)
    assert json.loads(form.answers or "") == [{"question": "Main concern", "answer": "Sleep"}]


def test_no_time_on_a_completed_form_is_reported_by_field(session: Session) -> None:
    patient = factories.patient(session)
    ctx = import_resources(
        session=session, resources=[response(authored=None)], patient_id=patient.id
    )
    assert forms(session)[0].received_at is None
    [problem] = ctx.tally.problems
    assert problem.field == "authored"
    assert "Fatigue" not in str(problem)
