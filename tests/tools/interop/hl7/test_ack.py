"""ACKs: AA, AE naming segment and field, AR; MSA-2 echoes the message's control id, and
hl7apy reads the ACK back."""

from __future__ import annotations

from datetime import datetime

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from tests.support.paths import ROOT
from tools.interop.hl7.ack import ack_code, build_ack
from tools.interop.hl7.reading import read_messages

FIXTURES = ROOT / "tests" / "fixtures" / "hl7"
SENT = datetime(2024, 9, 1, 6, 30, 15)


def _ack(name: str) -> tuple[str, object]:
    [outcome] = read_messages(text=(FIXTURES / name).read_text(encoding="utf-8"))
    text = build_ack(outcome=outcome, control_id="ACK-1", sent_at=SENT)
    parsed = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.STRICT)
    return text, parsed


def test_accepted_message_gets_aa_with_its_control_id() -> None:
    text, ack = _ack("oru_r01_panel_v251.hl7")
    assert ack.msa.msa_1.to_er7() == "AA"
    assert ack.msa.msa_2.to_er7() == "CNTRL-3456"
    assert ack.msh.msh_10.to_er7() == "ACK-1"
    assert ack.msh.msh_7.to_er7() == "20240901063015"
    assert ack.msh.msh_5.to_er7() == "GHH LAB"  # back to the sender
    assert "ERR" not in text


def test_malformed_obx_gets_ae_naming_segment_and_field() -> None:
    text, ack = _ack("oru_r01_malformed_obx_v251.hl7")
    assert ack.msa.msa_1.to_er7() == "AE"
    assert ack.msa.msa_2.to_er7() == "CNTRL-BAD-1"
    assert "OBX-5 of OBX 3" in ack.msa.msa_3.to_er7()
    assert ack.err.err_2.to_er7() == "OBX^3^5"
    assert ack.err.err_3.to_er7().startswith("102^")
    assert "see note" not in text


def test_non_oru_message_gets_ar() -> None:
    _, ack = _ack("adt_a01_v251.hl7")
    assert ack.msa.msa_1.to_er7() == "AR"
    assert ack.msa.msa_2.to_er7() == "ADT-0001"
    assert ack.err.err_3.to_er7().startswith("200^")


def test_version_2_3_ack_uses_err_1() -> None:
    [outcome] = read_messages(
        text="MSH|^~\\&|L|F|S|C|20240101||ORU^R01|C23|P|2.3\rPID|||1||D^J\rOBR|1|||X^Y^LN\r"
        "OBX|1|NM|A^B^LN||high||||||F"
    )
    assert ack_code(outcome=outcome) == "AE"
    text = build_ack(outcome=outcome, control_id="A", sent_at=SENT)
    ack = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.TOLERANT)
    assert ack.msh.msh_12.to_er7() == "2.3"
    assert ack.err.err_1.to_er7().startswith("OBX^1^5^102&")


def test_unreadable_msh_gets_ar_with_empty_control_id() -> None:
    [outcome] = read_messages(text="garbage\rPID|||1")
    assert ack_code(outcome=outcome) == "AR"
    text = build_ack(outcome=outcome, control_id="A", sent_at=SENT)
    ack = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.TOLERANT)
    assert ack.msa.msa_1.to_er7() == "AR"
    assert ack.msa.msa_2.to_er7() == ""


def test_aa_with_a_note_says_held_for_review() -> None:
    [outcome] = read_messages(
        text=(FIXTURES / "oru_r01_name_birth_date_only_v251.hl7").read_text(encoding="utf-8")
    )
    text = build_ack(outcome=outcome, control_id="ACK-2", sent_at=SENT, note="held for review")
    ack = parse_message(text, find_groups=False, validation_level=VALIDATION_LEVEL.STRICT)
    assert ack.msa.msa_1.to_er7() == "AA"
    assert ack.msa.msa_3.to_er7() == "held for review"
    assert "ERR" not in text
