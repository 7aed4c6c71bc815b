"""Conflicting guidance between practitioners, found in supplement records and notes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from db.models import (
    CareMessage,
    ClinicalNote,
    Discipline,
    MessageKind,
    SupplementItem,
    SupplementStatus,
)
from tools.guidance import find_conflicts, note_says, product_terms

MAG = "Magnesium glycinate 120 mg (Pure Encapsulations)"
PHYSICIAN, NUTRITION, ACUPUNCTURE = 1, 2, 3


def item(ident: int, *, by: int, stopped: date | None = None, product: str = MAG) -> SupplementItem:
    return SupplementItem(
        id=ident,
        patient_id=1,
        product=product,
        dose="240 mg",
        frequency="twice daily",
        started_on=date(2026, 9, 1),
        stopped_on=stopped,
        prescriber_id=by,
        status=SupplementStatus.STOPPED if stopped else SupplementStatus.ACTIVE,
    )


def note(ident: int, *, by: int, on: date, body: str) -> ClinicalNote:
    return ClinicalNote(
        id=ident,
        patient_id=1,
        practitioner_id=by,
        modality=Discipline.NUTRITIONAL_THERAPY,
        written_at=datetime(on.year, on.month, on.day, 12, tzinfo=UTC),
        body=body,
    )


def test_product_terms_are_the_name_before_the_dose_and_its_first_word() -> None:
    assert product_terms(MAG) == ("magnesium glycinate", "magnesium")
    assert product_terms("Vitamin D3 + K2 drops (BioCare)") == (
        "vitamin d3 + k2 drops",
        "vitamin d3",
    )
    assert product_terms("Omega-3 EPA/DHA 1 g (Nordic Naturals)") == ("omega-3 epa/dha", "omega-3")


def test_what_a_note_says_about_a_product() -> None:
    terms = product_terms(MAG)
    assert (
        note_says(note(1, by=1, on=date(2026, 11, 1), body="Stop magnesium for now."), terms)
        == "stop"
    )
    assert (
        note_says(note(2, by=1, on=date(2026, 11, 1), body="Magnesium glycinate continued."), terms)
        == "continue"
    )
    # Negated, unrelated or mixed sentences say nothing, rather than the wrong thing.
    assert (
        note_says(note(3, by=1, on=date(2026, 11, 1), body="Do not stop magnesium."), terms) is None
    )
    assert note_says(note(4, by=1, on=date(2026, 11, 1), body="Stop the omega-3."), terms) is None
    assert (
        note_says(note(5, by=1, on=date(2026, 11, 1), body="Magnesium discontinued."), terms)
        == "stop"
    )


def test_stopped_by_one_continued_by_another() -> None:
    stopped = item(10, by=PHYSICIAN, stopped=date(2026, 11, 2))
    msg = CareMessage(
        id=1,
        patient_id=1,
        sender_id=NUTRITION,
        recipient_id=PHYSICIAN,
        kind=MessageKind.SUPPLEMENT_CHANGE,
        subject="Supplement change",
        body="Stopped Magnesium glycinate (effective 2026-11-02).",
        source_ref="supplement:10",
    )
    later = note(
        20, by=ACUPUNCTURE, on=date(2026, 11, 9), body="Reviewed plan: magnesium continued."
    )
    earlier = note(21, by=ACUPUNCTURE, on=date(2026, 10, 1), body="Magnesium continued.")
    own = note(22, by=NUTRITION, on=date(2026, 11, 9), body="Magnesium continued after all.")
    conflicts = find_conflicts(supplements=[stopped], notes=[earlier, later, own], messages=[msg])
    assert [(c.kind, c.refs, c.first_by, c.second_by) for c in conflicts] == [
        ("stopped_but_continued", ("supplement:10", "note:20"), NUTRITION, ACUPUNCTURE)
    ]


def test_stopped_yet_active_under_another_prescriber() -> None:
    conflicts = find_conflicts(
        supplements=[item(10, by=PHYSICIAN, stopped=date(2026, 11, 2)), item(11, by=NUTRITION)],
        notes=[],
    )
    assert [(c.kind, c.refs) for c in conflicts] == [
        ("stopped_but_active", ("supplement:10", "supplement:11"))
    ]


def test_a_note_says_stop_while_another_prescribes_or_continues() -> None:
    active = item(11, by=NUTRITION)
    stop = note(30, by=PHYSICIAN, on=date(2026, 11, 3), body="Stop magnesium: loose stools.")
    cont = note(31, by=NUTRITION, on=date(2026, 11, 5), body="Magnesium glycinate continued.")
    kinds = {(c.kind, c.refs) for c in find_conflicts(supplements=[active], notes=[stop, cont])}
    assert kinds == {
        ("note_stop_vs_active", ("note:30", "supplement:11")),
        ("notes_disagree", ("note:30", "note:31")),
    }


def test_agreement_is_not_a_conflict() -> None:
    active = item(11, by=PHYSICIAN)
    notes = [
        note(40, by=PHYSICIAN, on=date(2026, 11, 3), body="Magnesium continued."),
        note(41, by=NUTRITION, on=date(2026, 11, 5), body="Reviewed plan: magnesium continued."),
    ]
    assert find_conflicts(supplements=[active], notes=notes) == []
