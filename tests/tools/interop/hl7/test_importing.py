"""ORU^R01 messages into the practice database: patient matching, orders, results, status,
corrections, provenance (re-sends change nothing), and nothing stored for AE/AR."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from db.models import (
    CareMessage,
    ImportFormat,
    ImportReview,
    LabFlag,
    LabOrder,
    LabResult,
    LabStatus,
    RecordSource,
    ResultStatus,
)
from tests.support.labs import NOW, lab_practice, take
from tools.interop.hl7.importing import MessageOutcome


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _results(engine: Engine) -> list[LabResult]:
    with Session(engine) as s:
        return list(s.exec(select(LabResult).order_by(col(LabResult.id))).all())


def test_panel_stored_with_flags_ranges_and_provenance(engine: Engine) -> None:
    practice = lab_practice(engine)
    [message] = take(engine, "oru_r01_panel_v251.hl7")
    assert message.outcome == MessageOutcome.STORED and message.ack_code == "AA"
    assert message.counts["orders created"] == 1 and message.counts["results created"] == 4
    with Session(engine) as s:
        order = s.exec(select(LabOrder)).one()
        assert order.patient_id == practice.patient_id
        assert order.ordered_by_id == practice.physician_id  # OBR-16 PRIMARY^PATRICIA
        assert (order.placer_number, order.filler_number) == ("845439", "1045813")
        assert order.lab == "ELAB-3" and order.panel == "LIPID PANEL"
        assert order.status == LabStatus.RECEIVED and order.received_on == date(2026, 11, 20)
        sources = s.exec(select(RecordSource).order_by(col(RecordSource.id))).all()
        assert {src.source_system for src in sources} == {"ELAB-3"}
        assert [src.resource_type for src in sources] == ["OBR", "OBX", "OBX", "OBX", "OBX"]
        assert sources[1].resource_id == "order:1045813|http://loinc.org^2093-3"
    results = _results(engine)
    by_code = {r.code: r for r in results}
    triglyceride = by_code["2571-8"]
    assert triglyceride.value == 245 and triglyceride.unit == "mg/dL"
    assert (triglyceride.ref_low, triglyceride.ref_high, triglyceride.ref_text) == (
        None,
        150,
        "<150",
    )
    assert triglyceride.flag == LabFlag.HIGH and triglyceride.status == ResultStatus.FINAL
    assert triglyceride.code_system == "http://loinc.org"
    assert by_code["2085-9"].flag == LabFlag.LOW and by_code["2085-9"].ref_low == 40
    assert by_code["2093-3"].flag == LabFlag.NORMAL


def test_resending_changes_nothing(engine: Engine) -> None:
    lab_practice(engine)
    take(engine, "oru_r01_panel_v251.hl7")
    before = (_count(engine, LabResult), _count(engine, RecordSource), _count(engine, LabOrder))
    [again] = take(engine, "oru_r01_panel_v251.hl7")
    assert again.outcome == MessageOutcome.STORED
    assert again.counts == {"orders matched": 1, "results unchanged": 4}
    assert (
        _count(engine, LabResult),
        _count(engine, RecordSource),
        _count(engine, LabOrder),
    ) == before


def test_correction_replaces_value_and_tells_the_orderer(engine: Engine) -> None:
    practice = lab_practice(engine)
    final, corrected = take(engine, "oru_r01_final_then_corrected_v251.hl7")
    assert final.outcome == corrected.outcome == MessageOutcome.STORED
    assert corrected.counts["results corrected"] == 1
    [result] = _results(engine)
    assert result.value == 28 and result.status == ResultStatus.CORRECTED
    assert result.previous_value == "18 ng/mL"
    with Session(engine) as s:
        [message] = s.exec(select(CareMessage)).all()
        assert message.recipient_id == practice.physician_id
        assert message.patient_id == practice.patient_id
        assert message.subject.startswith("Corrected result: 25-Hydroxyvitamin D3")
        assert "previously 18 ng/mL, now 28 ng/mL" in message.body
        assert message.source_ref == f"lab_result:{result.id}"
    # The correction re-sent: nothing new, no second message.
    take(engine, "oru_r01_final_then_corrected_v251.hl7")
    assert _count(engine, CareMessage) == 1 and len(_results(engine)) == 1


def test_correction_in_another_file_of_the_panel(engine: Engine) -> None:
    lab_practice(engine)
    take(engine, "oru_r01_panel_v251.hl7")
    [corrected] = take(engine, "oru_r01_corrected_v251.hl7")
    assert corrected.counts["results corrected"] == 1
    by_code = {r.code: r for r in _results(engine)}
    assert len(by_code) == 4
    assert by_code["2571-8"].value == 145 and by_code["2571-8"].previous_value == "245 mg/dL"


def test_preliminary_then_final_updates_in_place(engine: Engine) -> None:
    lab_practice(engine)
    preliminary, final = take(engine, "oru_r01_preliminary_then_final_v24.hl7")
    assert preliminary.outcome == final.outcome == MessageOutcome.STORED
    [result] = _results(engine)
    assert result.value_text == "No growth at 5 days" and result.status == ResultStatus.FINAL
    assert final.counts["results updated"] == 1
    with Session(engine) as s:
        order = s.exec(select(LabOrder)).one()
        assert order.status == LabStatus.RECEIVED


def test_preliminary_only_leaves_the_order_collected(engine: Engine) -> None:
    lab_practice(engine)
    data = (take.__globals__["HL7"] / "oru_r01_preliminary_then_final_v24.hl7").read_bytes()
    first = data.split(b"MSH|", 2)[1]
    from schedules.lab_intake import LabIntake, take_messages
    from tests.support.labs import ZONE

    take_messages(intake=LabIntake(engine=engine, zone=ZONE), data=b"MSH|" + first, now=NOW)
    with Session(engine) as s:
        order = s.exec(select(LabOrder)).one()
        assert order.status == LabStatus.COLLECTED and order.received_on is None


def test_a_late_older_message_is_ignored(engine: Engine) -> None:
    lab_practice(engine)
    data = (take.__globals__["HL7"] / "oru_r01_preliminary_then_final_v24.hl7").read_bytes()
    _, first, second = data.split(b"MSH|")
    from schedules.lab_intake import LabIntake, take_messages
    from tests.support.labs import ZONE

    intake = LabIntake(engine=engine, zone=ZONE)
    take_messages(intake=intake, data=b"MSH|" + second, now=NOW)
    [late] = take_messages(intake=intake, data=b"MSH|" + first, now=NOW)
    assert late.counts.get("results stale") == 1
    [result] = _results(engine)
    assert result.status == ResultStatus.FINAL


def test_structured_coded_and_text_values(engine: Engine) -> None:
    lab_practice(engine)
    [message] = take(engine, "oru_r01_sn_ce_tx_v251.hl7")
    assert message.outcome == MessageOutcome.STORED
    results = _results(engine)
    assert [(r.value, r.value_text) for r in results] == [
        (None, ">250"),
        (None, "1:160"),
        (None, "Positive"),
        (None, "Result phoned to clinic.\nConfirmed by repeat testing."),
        (None, None),
    ]
    assert [r.flag for r in results][:3] == [LabFlag.CRITICAL, LabFlag.ABNORMAL, LabFlag.ABNORMAL]
    assert results[4].status == ResultStatus.CANCELLED
    assert results[0].code == results[2].code == "5196-1"  # two OBX, one code: both kept


def test_multi_obr_message_makes_two_orders(engine: Engine) -> None:
    lab_practice(engine)
    [message] = take(engine, "oru_r01_multi_obr_v251.hl7")
    assert message.counts["orders created"] == 2 and message.counts["results created"] == 3
    with Session(engine) as s:
        orders = s.exec(select(LabOrder).order_by(col(LabOrder.id))).all()
        assert [o.panel for o in orders] == ["CBC panel", "Ferritin"]
        ferritin = s.exec(select(LabResult).where(LabResult.code == "2276-4")).one()
        assert ferritin.flag == LabFlag.CRITICAL and ferritin.order_id == orders[1].id


def test_placer_number_matches_the_practice_order(engine: Engine) -> None:
    practice = lab_practice(engine)
    with Session(engine) as s:
        order = LabOrder(
            patient_id=practice.patient_id,
            ordered_by_id=practice.other_physician_id,
            lab="GHH",
            panel="HbA1c",
            ordered_on=date(2026, 10, 1),
            placer_number="STEVE-ORD-1",
        )
        s.add(order)
        s.commit()
        order_id = order.id
    [message] = take(engine, "oru_r01_placer_match_v251.hl7")
    assert message.counts["orders matched"] == 1
    with Session(engine) as s:
        [stored] = s.exec(select(LabOrder)).all()
        assert stored.id == order_id and stored.filler_number == "P-5001"
        assert stored.ordered_by_id == practice.other_physician_id  # the order's, unchanged
        assert stored.status == LabStatus.RECEIVED
        assert s.exec(select(LabResult)).one().order_id == order_id


def test_pending_order_for_the_same_panel_is_matched(engine: Engine) -> None:
    practice = lab_practice(engine)
    with Session(engine) as s:
        s.add(
            LabOrder(
                patient_id=practice.patient_id,
                ordered_by_id=practice.other_physician_id,
                lab="GHH",
                panel="Lipid panel",
                ordered_on=date(2026, 10, 1),
            )
        )
        s.commit()
    [message] = take(engine, "oru_r01_panel_v251.hl7")
    assert message.counts["orders matched"] == 1
    assert _count(engine, LabOrder) == 1


def test_order_number_of_another_patient_is_an_error(engine: Engine) -> None:
    practice = lab_practice(engine)
    from tests.support import factories

    with Session(engine) as s:
        other = factories.patient(s, given="Other")
        s.add(
            LabOrder(
                patient_id=other.id or 0,
                ordered_by_id=practice.physician_id,
                lab="GHH",
                panel="HbA1c",
                ordered_on=date(2026, 10, 1),
                placer_number="STEVE-ORD-1",
            )
        )
        s.commit()
    [message] = take(engine, "oru_r01_placer_match_v251.hl7")
    assert message.outcome == MessageOutcome.ERROR and message.ack_code == "AE"
    assert str(message.problems[0]) == "OBR-2 of OBR 1: order number of another patient"
    assert _count(engine, LabResult) == 0 and _count(engine, RecordSource) == 0


def test_unknown_patient_is_held_whole(engine: Engine) -> None:
    lab_practice(engine)
    [message] = take(engine, "oru_r01_unknown_patient_v23.hl7")
    assert message.outcome == MessageOutcome.HELD and message.ack_code == "AA"
    with Session(engine) as s:
        review = s.exec(select(ImportReview)).one()
        assert review.format == ImportFormat.HL7 and review.source_system == "REFLAB"
        assert review.source_ref == "RL-000917" and review.candidate_patient_id is None
        assert review.payload.startswith("MSH|^~\\&|REFLAB") and "OBX|1|NM|3016-3" in review.payload
    assert _count(engine, LabOrder) == 0 and _count(engine, LabResult) == 0
    take(engine, "oru_r01_unknown_patient_v23.hl7")
    assert _count(engine, ImportReview) == 1  # held once, not queued twice


def test_name_and_birth_date_only_is_held_with_the_candidate(engine: Engine) -> None:
    practice = lab_practice(engine)
    [message] = take(engine, "oru_r01_name_birth_date_only_v251.hl7")
    assert message.outcome == MessageOutcome.HELD
    with Session(engine) as s:
        review = s.exec(select(ImportReview)).one()
        assert review.candidate_patient_id == practice.patient_id
        assert "name and birth date" in review.reason
    assert _count(engine, LabResult) == 0


def test_malformed_obx_stores_nothing(engine: Engine) -> None:
    lab_practice(engine)
    [message] = take(engine, "oru_r01_malformed_obx_v251.hl7")
    assert message.outcome == MessageOutcome.ERROR and message.ack_code == "AE"
    assert str(message.problems[0]).startswith("OBX-5 of OBX 3")
    [missing] = take(engine, "oru_r01_missing_status_v251.hl7")
    assert str(missing.problems[0]).startswith("OBX-11 of OBX 2")
    assert _count(engine, LabOrder) == 0 and _count(engine, LabResult) == 0


def test_not_an_oru_is_rejected(engine: Engine) -> None:
    lab_practice(engine)
    [message] = take(engine, "adt_a01_v251.hl7")
    assert message.outcome == MessageOutcome.REJECTED and message.ack_code == "AR"
    assert _count(engine, ImportReview) == 0


def test_dry_run_writes_nothing(engine: Engine) -> None:
    lab_practice(engine)
    [message] = take(engine, "oru_r01_panel_v251.hl7", dry_run=True)
    assert message.counts["results created"] == 4
    assert _count(engine, LabResult) == 0 and _count(engine, LabOrder) == 0


def test_source_and_lab_overrides(engine: Engine) -> None:
    lab_practice(engine)
    take(engine, "oru_r01_panel_v251.hl7", source="ghh-lab", lab="GHH Laboratories")
    with Session(engine) as s:
        assert s.exec(select(LabOrder)).one().lab == "GHH Laboratories"
        systems = set(s.exec(select(RecordSource.source_system)).all())
        assert systems == {"ghh-lab"}


def test_a_held_message_stored_once_a_person_decides(engine: Engine) -> None:
    from tools.interop.hl7.importing import import_held_message

    practice = lab_practice(engine)
    take(engine, "oru_r01_name_birth_date_only_v251.hl7")
    with Session(engine) as s:
        review = s.exec(select(ImportReview)).one()
        imported = import_held_message(
            session=s,
            payload=review.payload,
            patient_id=practice.patient_id,
            today=NOW.date(),
            now=NOW,
        )
        s.commit()
    assert imported.outcome == MessageOutcome.STORED
    assert imported.counts["results created"] == 1
    [again] = take(engine, "oru_r01_name_birth_date_only_v251.hl7")  # now by identifier
    assert again.outcome == MessageOutcome.STORED
    assert again.counts == {"orders matched": 1, "results unchanged": 1}


def test_steve_import_review_merges_a_held_message(engine: Engine) -> None:
    import pytest

    from tools.errors import InvalidInput
    from tools.interop.review import Decision, decide

    lab_practice(engine)
    take(engine, "oru_r01_name_birth_date_only_v251.hl7")
    take(engine, "oru_r01_unknown_patient_v23.hl7")
    with Session(engine) as s:
        held, unknown = s.exec(select(ImportReview).order_by(col(ImportReview.id))).all()
    summary = decide(engine=engine, review_id=held.id or 0, decision=Decision.MERGE, actor="t")
    assert summary["results created"] == 1
    assert _count(engine, LabResult) == 1
    with pytest.raises(InvalidInput, match="cannot open a new patient record"):
        decide(engine=engine, review_id=unknown.id or 0, decision=Decision.CREATE, actor="t")
    [again] = take(engine, "oru_r01_name_birth_date_only_v251.hl7")
    assert again.outcome == MessageOutcome.STORED
