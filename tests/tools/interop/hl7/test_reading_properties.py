"""Whatever the bytes, reading never raises, and a bad value never shows in a problem."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.paths import ROOT
from tools.interop.hl7.ack import build_ack
from tools.interop.hl7.reading import read_messages

BASE = (ROOT / "tests" / "fixtures" / "hl7" / "oru_r01_sn_ce_tx_v251.hl7").read_text()
PIECES = st.text(st.sampled_from(list("|^~\\&\r\nMSHOBXPIDR0123456789.-+<>: aZ\x0b\x1c#")))


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(BASE)), cut=st.integers(0, 20), inserted=PIECES)
def test_any_edit_of_a_message_reads_or_gives_problems(
    position: int, cut: int, inserted: str
) -> None:
    text = BASE[:position] + inserted + BASE[position + cut :]
    for outcome in read_messages(text=text):
        assert (outcome.message is None) == bool(outcome.problems)
        ack = build_ack(outcome=outcome, control_id="A", sent_at=datetime(2024, 1, 1))
        assert ack.startswith("MSH|")


@settings(max_examples=200, deadline=None)
@given(value=st.text(st.characters(whitelist_categories=("L",)), min_size=4, max_size=12))
def test_a_bad_value_never_appears_in_problems_or_ack(value: str) -> None:
    value = "Zq" + value  # "Zq" is in no ACK or problem text, so a hit is the value itself
    text = "\r".join(
        [
            "MSH|^~\\&|LAB|FAC|S|C|20240101||ORU^R01|C1|P|2.5.1",
            "PID|||1^^^EHR^MR||DOE^JANE||19900101|F",
            "OBR|1|P1|F1|2345-7^Glucose^LN|||20240101",
            f"OBX|1|NM|2345-7^Glucose^LN||{value}|mg/dL|||||F",
        ]
    )
    [outcome] = read_messages(text=text)
    assert [str(p) for p in outcome.problems] == ["OBX-5 of OBX 1: not a number for value type NM"]
    ack = build_ack(outcome=outcome, control_id="A", sent_at=datetime(2024, 1, 1))
    assert value not in ack
