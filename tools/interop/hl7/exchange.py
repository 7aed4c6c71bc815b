"""One MLLP frame answered without storing: its messages read and an ACK framed for each.
The listener under `steve serve` (schedules.mllp_listener) stores each message first, one
transaction per message, and answers with `importing.ack_for` (AA also when held for
review); this reading-only answer is for callers that store nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tools.interop.hl7.ack import build_ack
from tools.interop.hl7.header import read_header
from tools.interop.hl7.mllp import frame
from tools.interop.hl7.reading import read_payload
from tools.interop.hl7.records import ReadOutcome


@dataclass(frozen=True)
class FrameAnswer:
    """The messages of one frame and the framed ACKs answering them, in the same order."""

    outcomes: tuple[ReadOutcome, ...]
    acks: tuple[bytes, ...]


def answer_frame(
    *,
    payload: bytes,
    next_control_id: Callable[[], str],
    sent_at: datetime,
    application: str = "STEVE",
    facility: str = "",
) -> FrameAnswer:
    """Read `payload` (normally one message; a batch gets one ACK per message) and frame an
    ACK for each message; an empty payload is answered by one AR."""
    outcomes = tuple(read_payload(data=payload)) or (_empty_outcome(),)
    acks = tuple(
        frame(
            payload=build_ack(
                outcome=outcome,
                control_id=next_control_id(),
                sent_at=sent_at,
                application=application,
                facility=facility,
            ).encode("utf-8")
        )
        for outcome in outcomes
    )
    return FrameAnswer(outcomes=outcomes, acks=acks)


def _empty_outcome() -> ReadOutcome:
    _, _, problems = read_header(msh="")
    return ReadOutcome(index=1, header=None, message=None, problems=tuple(problems))
