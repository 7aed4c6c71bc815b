"""ORU^R01 messages read from the fixtures (tests/fixtures/hl7/README.md says where each
came from): orders, results by value type, statuses, comments, and problems that name
segment and field without the value."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tests.support.paths import ROOT
from tools.interop.hl7.reading import read_messages
from tools.interop.hl7.records import (
    CodedValue,
    LabMessage,
    NumericValue,
    ResultStatus,
    Severity,
    StructuredNumeric,
    TextValue,
)

FIXTURES = ROOT / "tests" / "fixtures" / "hl7"


def _read(name: str) -> list:
    return read_messages(text=(FIXTURES / name).read_text(encoding="utf-8", errors="strict"))


def _only_message(name: str) -> LabMessage:
    outcomes = _read(name)
    assert len(outcomes) == 1
    assert outcomes[0].problems == ()
    assert outcomes[0].message is not None
    return outcomes[0].message


def test_a_multi_obx_panel() -> None:
    message = _only_message("oru_r01_panel_v251.hl7")
    assert message.header.control_id == "CNTRL-3456"
    assert message.header.sending_facility.startswith("ELAB-3")
    patient = message.patient
    assert [(i.value, i.assigning_authority, i.identifier_type) for i in patient.identifiers] == [
        ("555-44-4444", "EHR", "MR"),
        ("E123", "GHH LAB", "PI"),
    ]
    assert (patient.family_name, patient.given_names) == ("EVERYWOMAN", ("EVE", "E"))
    assert (patient.birth_date, patient.sex) == (date(1962, 3, 20), "F")
    [order] = message.orders
    assert (order.placer_order_number, order.filler_order_number) == ("845439", "1045813")
    assert (order.service.code, order.service.text, order.service.system) == (
        "24331-1",
        "LIPID PANEL",
        "LN",
    )
    assert order.observed_at == datetime(2002, 2, 15, 7, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert order.results_reported_at is not None
    assert order.ordering_provider is not None
    assert order.ordering_provider.family_name == "PRIMARY"
    assert [c.text for c in order.comments] == ["Specimen received & processed same day"]
    values = [r.value for r in order.results]
    assert values == [NumericValue(Decimal(n)) for n in ("196", "245", "38.5", "108.6")]
    assert [r.abnormal_flags for r in order.results] == [("N",), ("H",), ("L",), ("H",)]
    triglycerides = order.results[1]
    assert triglycerides.observation.code == "2571-8"
    assert triglycerides.observation.system == "LN"
    assert (triglycerides.units, triglycerides.reference_range) == ("mg/dL", "<150")
    assert triglycerides.status is ResultStatus.FINAL
    assert [c.text for c in triglycerides.comments] == ["Patient reports non-fasting sample."]
    assert order.results[0].comments == ()


def test_a_corrected_result() -> None:
    [order] = _only_message("oru_r01_corrected_v251.hl7").orders
    [result] = order.results
    assert result.status is ResultStatus.CORRECTED
    assert result.set_id == 2
    assert result.value == NumericValue(Decimal("145"))
    assert order.result_status == "C"


def test_a_message_for_an_unknown_patient_reads_like_any_other() -> None:
    message = _only_message("oru_r01_unknown_patient_v23.hl7")
    assert message.header.version == "2.3"
    assert message.patient.identifiers[0].value == "X99887766"
    assert message.orders[0].results[0].value == NumericValue(Decimal("2.31"))


def test_preliminary_then_final_in_one_file_with_crlf() -> None:
    outcomes = _read("oru_r01_preliminary_then_final_v24.hl7")
    assert [o.header.control_id for o in outcomes] == ["GHH-P-1", "GHH-F-1"]
    statuses = [o.message.orders[0].results[0].status for o in outcomes]
    assert statuses == [ResultStatus.PRELIMINARY, ResultStatus.FINAL]
    assert outcomes[1].message.orders[0].results[0].value == TextValue("No growth at 5 days")
    fillers = {o.message.orders[0].filler_order_number for o in outcomes}
    assert fillers == {"5501"}


def test_sn_ce_tx_and_not_obtained_values() -> None:
    results = _only_message("oru_r01_sn_ce_tx_v251.hl7").orders[0].results
    assert results[0].value == StructuredNumeric(">", Decimal("250"))
    assert results[0].abnormal_flags == ("HH",)
    assert results[1].value == StructuredNumeric("", Decimal("1"), ":", Decimal("160"))
    assert isinstance(results[2].value, CodedValue)
    assert (results[2].value.coded.code, results[2].value.coded.system) == ("10828004", "SCT")
    assert results[3].value == TextValue("Result phoned to clinic.\nConfirmed by repeat testing.")
    assert (results[4].value, results[4].status) == (None, ResultStatus.NOT_OBTAINED)


def test_several_messages_with_newline_separators_and_batch_envelope() -> None:
    outcomes = _read("oru_r01_batch_newlines_v251.hl7")
    assert [o.index for o in outcomes] == [1, 2, 3]
    assert [o.header.control_id for o in outcomes] == ["BATCH-1", "BATCH-2", "BATCH-3"]
    assert all(o.problems == () for o in outcomes)
    assert [o.message.patient.family_name for o in outcomes] == ["ALPHA", "BETA", "GAMMA"]


def test_a_malformed_obx_rejects_the_whole_message_without_its_value() -> None:
    [outcome] = _read("oru_r01_malformed_obx_v251.hl7")
    assert outcome.message is None  # nothing partial: the two good OBX are not given
    [problem] = outcome.problems
    assert str(problem) == "OBX-5 of OBX 3: not a number for value type NM"
    assert (problem.severity, problem.code) == (Severity.ERROR, 102)
    assert "see note" not in repr(problem)
    assert not outcome.rejected


def test_a_non_oru_message_is_rejected() -> None:
    [outcome] = _read("adt_a01_v251.hl7")
    assert outcome.rejected
    assert [str(p) for p in outcome.problems] == ["MSH-9: not an ORU^R01 message"]
    assert outcome.header is not None
    assert outcome.header.control_id == "ADT-0001"


MSH = "MSH|^~\\&|LAB|FAC|STEVE|CLINIC|20240101||ORU^R01|C1|P|{version}"
PID = "PID|||1^^^EHR^MR||DOE^JANE||19900101|F"
OBR = "OBR|1|P1|F1|2345-7^Glucose^LN|||20240101"


def _problems(*segments: str, version: str = "2.5.1") -> list[str]:
    [outcome] = read_messages(text="\r".join([MSH.format(version=version), *segments]))
    assert outcome.message is None
    return [str(p) for p in outcome.problems]


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        ((PID, OBR, "OBX|1|NM|2345-7^Glucose^LN||12|mg/dL|||||Q"), "OBX-11 of OBX 1: not a result"),
        ((PID, OBR, "OBX|1|NM|2345-7^Glucose^LN||12|mg/dL"), "OBX-11 of OBX 1: no result"),
        ((PID, OBR, "OBX|1|NM|||12|mg/dL|||||F"), "OBX-3 of OBX 1"),
        ((PID, OBR, "OBX|1|SN|2345-7^Glucose^LN||^abc|mg/dL|||||F"), "OBX-5 of OBX 1"),
        ((PID, OBR, "OBX|1|NM|2345-7^Glucose^LN||1||||||F|||2024-01-01"), "OBX-14 of OBX 1"),
        ((PID, "OBR|1|P1|F1||||20240101"), "OBR-4 of OBR 1"),
        ((PID, OBR, OBR.replace("20240101", "yesterday")), "OBR-7 of OBR 2"),
        (("PID|||^^^EHR||DOE^JANE", OBR), "PID-3"),
        (("PID|||1||DOE^JANE||1990-01-01", OBR), "PID-7"),
        ((OBR,), "OBR 1"),
        ((PID,), "OBR"),
        ((PID, "OBX|1|NM|2345-7^Glucose^LN||1|||||F"), "OBX 1"),
        ((PID, OBR, "obx lower case"), "segment 4"),
    ],
)
def test_problems_name_segment_and_field(segments: tuple[str, ...], expected: str) -> None:
    problems = _problems(*segments)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("msh", "expected"),
    [
        (MSH.format(version="2.7"), "MSH-12: unsupported version (2.3 to 2.5.1 are read)"),
        (MSH.format(version=""), "MSH-12: no version id"),
        (MSH.format(version="2.5.1").replace("|C1|", "||"), "MSH-10: no message control id"),
        ("MSH|", "MSH: not an MSH segment with its separators"),
        ("PID|||1", "MSH: not an MSH segment with its separators"),
    ],
)
def test_messages_that_are_not_taken_are_rejected(msh: str, expected: str) -> None:
    [outcome] = read_messages(text="\r".join([msh, PID, OBR]))
    assert outcome.rejected
    assert expected in [str(p) for p in outcome.problems]


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.4", "2.5", "2.5.1"])
def test_every_supported_version_reads(version: str) -> None:
    obx = "OBX|1|NM|2345-7^Glucose^LN||5.5|mmol/L|3.9-5.5|N|||F|||202401010800"
    [outcome] = read_messages(text="\n".join([MSH.format(version=version), PID, OBR, obx]))
    assert outcome.problems == ()
    assert outcome.message is not None
    assert outcome.message.orders[0].results[0].value == NumericValue(Decimal("5.5"))
    assert outcome.message.orders[0].results[0].observed_at == datetime(2024, 1, 1, 8, 0)


def test_custom_separators_declared_in_msh() -> None:
    text = "\r".join(
        [
            "MSH*$~\\&*LAB*FAC*S*C*20240101**ORU$R01*C1*P*2.5.1",
            "PID***123$$$EHR$MR**DOE$JANE$Q**19900101*F",
            "OBR*1*P1*F1*2345-7$Glucose$LN***20240101",
            "OBX*1*SN*2345-7$Glucose$LN**>$5*mg/dL$$UCUM*3-5*H***F",
            "OBX*2*ST*X$Y$LN**a \\F\\ b \\S\\ c******F",
        ]
    )
    [outcome] = read_messages(text=text)
    assert outcome.message is not None, outcome.problems
    assert outcome.message.patient.identifiers[0].assigning_authority == "EHR"
    results = outcome.message.orders[0].results
    assert results[0].value == StructuredNumeric(">", Decimal("5"))
    assert results[1].value == TextValue("a * b $ c")


def test_read_payload_decodes_bytes() -> None:
    from tools.interop.hl7.reading import read_payload

    data = (FIXTURES / "oru_r01_batch_newlines_v251.hl7").read_bytes()
    assert [o.header.control_id for o in read_payload(data=data)] == [
        "BATCH-1",
        "BATCH-2",
        "BATCH-3",
    ]
