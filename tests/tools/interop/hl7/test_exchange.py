"""A frame answered: its messages read, one framed ACK each, MSA-2 echoing each control id."""

from __future__ import annotations

import itertools
from datetime import datetime

from tests.support.paths import ROOT
from tools.interop.hl7.exchange import FrameAnswer, answer_frame
from tools.interop.hl7.mllp import MllpDecoder, frame, unframe

FIXTURES = ROOT / "tests" / "fixtures" / "hl7"
SENT = datetime(2024, 9, 1, 6, 30)


def _ids() -> itertools.count[int]:
    return itertools.count(1)


def _answer(payload: bytes) -> FrameAnswer:
    counter = _ids()
    return answer_frame(
        payload=payload, next_control_id=lambda: f"ACK{next(counter)}", sent_at=SENT
    )


def test_a_frame_from_the_stream_is_answered_with_aa() -> None:
    payload = (FIXTURES / "oru_r01_corrected_v251.hl7").read_bytes()
    [received] = MllpDecoder().feed(b"junk" + frame(payload=payload))
    answer = _answer(received)
    [ack] = answer.acks
    segments = unframe(data=ack).decode().split("\r")
    assert segments[1].startswith("MSA|AA|CNTRL-3457")
    assert "|ACK1|" in segments[0]
    assert answer.outcomes[0].message is not None


def test_a_batch_payload_gets_one_ack_per_message() -> None:
    answer = _answer((FIXTURES / "oru_r01_batch_newlines_v251.hl7").read_bytes())
    msas = [unframe(data=ack).decode().split("\r")[1] for ack in answer.acks]
    assert msas == ["MSA|AA|BATCH-1", "MSA|AA|BATCH-2", "MSA|AA|BATCH-3"]


def test_an_empty_payload_gets_an_ar() -> None:
    answer = _answer(b"")
    [ack] = answer.acks
    assert unframe(data=ack).decode().split("\r")[1].startswith("MSA|AR|")
    assert answer.outcomes[0].message is None


def test_a_malformed_message_gets_an_ae_and_no_message() -> None:
    answer = _answer((FIXTURES / "oru_r01_malformed_obx_v251.hl7").read_bytes())
    assert unframe(data=answer.acks[0]).decode().split("\r")[1].startswith("MSA|AE|CNTRL-BAD-1")
    assert answer.outcomes[0].message is None
