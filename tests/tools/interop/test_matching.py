"""Patient matching: a shared identifier is the patient; a name and birth date alone is a
question for a person; identifiers of two patients are never merged."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from db.models import ImportFormat, ImportReview, PatientIdentifier
from tests.support import factories
from tools.interop.matching import (
    Identifier,
    Identity,
    MatchKind,
    add_identifiers,
    hold_for_review,
    match_patient,
)

MRN = "http://hospital.example.org/mrn"


def test_shared_identifier_matches(session: Session) -> None:
    patient = factories.patient(session, given="Zoë", family="Ó Briain")
    assert patient.id is not None
    add_identifiers(session=session, patient_id=patient.id, identifiers=[Identifier(MRN, "42")])
    found = match_patient(
        session=session,
        identity=Identity(identifiers=[Identifier(MRN, "42")], given_name="Someone"),
    )
    assert (found.kind, found.patient_id) == (MatchKind.IDENTIFIER, patient.id)


def test_same_name_and_birth_date_without_identifier_goes_to_review(session: Session) -> None:
    patient = factories.patient(session, given="Zoë", family="Ó Briain", born=date(1970, 1, 2))
    found = match_patient(
        session=session,
        identity=Identity(
            identifiers=[Identifier(MRN, "99")],
            given_name="zoe",
            family_name="O  Briain",
            birth_date=date(1970, 1, 2),
        ),
    )
    assert (found.kind, found.patient_id) == (MatchKind.REVIEW, patient.id)
    other_day = match_patient(
        session=session,
        identity=Identity(given_name="Zoë", family_name="Ó Briain", birth_date=date(1970, 1, 3)),
    )
    assert other_day.kind == MatchKind.NEW


def test_identifiers_of_two_patients_go_to_review(session: Session) -> None:
    a, b = factories.patient(session), factories.patient(session)
    assert a.id is not None and b.id is not None
    add_identifiers(session=session, patient_id=a.id, identifiers=[Identifier(MRN, "1")])
    add_identifiers(session=session, patient_id=b.id, identifiers=[Identifier("lab", "7")])
    found = match_patient(
        session=session,
        identity=Identity(identifiers=[Identifier(MRN, "1"), Identifier("lab", "7")]),
    )
    assert found.kind == MatchKind.REVIEW
    assert {found.patient_id, *found.other_candidates} == {a.id, b.id}


def test_an_identifier_held_by_another_patient_is_not_moved(session: Session) -> None:
    a, b = factories.patient(session), factories.patient(session)
    assert a.id is not None and b.id is not None
    add_identifiers(session=session, patient_id=a.id, identifiers=[Identifier(MRN, "1")])
    conflicts = add_identifiers(
        session=session, patient_id=b.id, identifiers=[Identifier(MRN, "1")]
    )
    assert conflicts == [Identifier(MRN, "1")]
    owners = session.exec(select(PatientIdentifier.patient_id)).all()
    assert owners == [a.id]


def test_holding_the_same_record_twice_keeps_one_review(session: Session) -> None:
    patient = factories.patient(session, born=date(1970, 1, 2))
    found = match_patient(
        session=session,
        identity=Identity(
            given_name=patient.given_name,
            family_name=patient.family_name,
            birth_date=date(1970, 1, 2),
        ),
    )
    for payload in ("first", "second"):
        hold_for_review(
            session=session,
            format=ImportFormat.FHIR,
            source_system="ehr",
            source_ref="Patient/9",
            match=found,
            payload=payload,
        )
    reviews = session.exec(select(ImportReview)).all()
    assert [(r.payload, r.candidate_patient_id) for r in reviews] == [("second", patient.id)]
