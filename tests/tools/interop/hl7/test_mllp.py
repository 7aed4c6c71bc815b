"""MLLP framing: one frame each way, and the stream decoder's edge cases."""

from __future__ import annotations

import asyncio

import pytest

from tools.interop.hl7.mllp import MllpDecoder, NotAFrame, frame, read_frames, unframe

MESSAGE = b"MSH|^~\\&|LAB|ACME|STEVE|CLINIC|20260101||ORU^R01|M1|P|2.5.1\rPID|||1\r"
OTHER = b"MSH|^~\\&|LAB|ACME|STEVE|CLINIC|20260101||ORU^R01|M2|P|2.5.1\r"


def test_frame_and_unframe_round_trip() -> None:
    framed = frame(payload=MESSAGE)
    assert framed == b"\x0b" + MESSAGE + b"\x1c\x0d"
    assert unframe(data=framed) == MESSAGE


@pytest.mark.parametrize(
    "data",
    [
        MESSAGE,
        b"\x0b" + MESSAGE,
        MESSAGE + b"\x1c\r",
        frame(payload=MESSAGE) + frame(payload=OTHER),
    ],
)
def test_unframe_refuses_what_is_not_one_frame(data: bytes) -> None:
    with pytest.raises(NotAFrame):
        unframe(data=data)


def test_frame_refuses_a_payload_holding_framing_bytes() -> None:
    with pytest.raises(NotAFrame):
        frame(payload=b"abc\x1cdef")


def test_a_frame_split_at_every_byte_comes_out_whole() -> None:
    stream = frame(payload=MESSAGE) + frame(payload=OTHER)
    decoder = MllpDecoder()
    out: list[bytes] = []
    for index in range(len(stream)):
        out += decoder.feed(stream[index : index + 1])
    assert out == [MESSAGE, OTHER]
    assert decoder.junk_bytes == 0
    assert decoder.pending_bytes == 0


def test_several_frames_in_one_read_and_junk_between_them() -> None:
    decoder = MllpDecoder()
    stream = b"noise" + frame(payload=MESSAGE) + b"\r\n\r\n" + frame(payload=OTHER) + b"xx"
    assert decoder.feed(stream) == [MESSAGE, OTHER]
    assert decoder.junk_bytes == len(b"noise") + 4 + 2


def test_a_partial_frame_waits_for_the_next_read() -> None:
    decoder = MllpDecoder()
    framed = frame(payload=MESSAGE)
    assert decoder.feed(framed[:10]) == []
    assert decoder.pending_bytes == 9
    assert decoder.feed(framed[10:]) == [MESSAGE]


def test_trailer_split_between_0x1c_and_0x0d() -> None:
    decoder = MllpDecoder()
    framed = frame(payload=MESSAGE)
    assert decoder.feed(framed[:-1]) == []
    assert decoder.feed(framed[-1:]) == [MESSAGE]


def test_a_new_start_block_abandons_an_unfinished_frame() -> None:
    decoder = MllpDecoder()
    stream = b"\x0bMSH|cut short" + frame(payload=OTHER)
    assert decoder.feed(stream) == [OTHER]
    assert decoder.abandoned_frames == 1


def test_an_oversized_frame_is_dropped_and_the_next_one_kept() -> None:
    decoder = MllpDecoder(max_frame_bytes=20)
    big = frame(payload=b"X" * 50)
    assert decoder.feed(big[:30]) == []
    assert decoder.feed(big[30:] + frame(payload=b"small")) == [b"small"]
    assert decoder.oversized_frames == 1


def test_read_frames_from_an_asyncio_stream() -> None:
    async def collect() -> list[bytes]:
        reader = asyncio.StreamReader()
        stream = frame(payload=MESSAGE) + frame(payload=OTHER)
        reader.feed_data(stream[:7])
        reader.feed_data(stream[7:])
        reader.feed_eof()
        return [payload async for payload in read_frames(reader=reader, chunk_bytes=5)]

    assert asyncio.run(collect()) == [MESSAGE, OTHER]
