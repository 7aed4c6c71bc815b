"""MLLP framing (HL7 v2 over TCP): a message travels as 0x0B, the message, 0x1C 0x0D.

`frame` and `unframe` handle one message; `MllpDecoder` takes a byte stream in whatever
pieces the network gives (a frame split across reads, several frames in one read, junk
between frames) and hands back whole payloads; `read_frames` plugs it into an asyncio
`StreamReader`. The listener that answers each frame with its ACK is the caller's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c"
CARRIAGE_RETURN = b"\r"
TRAILER = END_BLOCK + CARRIAGE_RETURN

#: A frame larger than this is dropped (and counted) rather than buffered without end.
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024


class NotAFrame(ValueError):
    """Bytes given to `unframe` are not exactly one MLLP frame."""


def frame(*, payload: bytes) -> bytes:
    """One message wrapped for MLLP: 0x0B + payload + 0x1C 0x0D."""
    if START_BLOCK in payload or END_BLOCK in payload:
        raise NotAFrame("an MLLP payload cannot hold the 0x0B or 0x1C framing bytes")
    return START_BLOCK + payload + TRAILER


def unframe(*, data: bytes) -> bytes:
    """The payload of exactly one MLLP frame (surrounding whitespace tolerated)."""
    stripped = data.strip(b" \t\r\n")
    if not stripped.startswith(START_BLOCK):
        raise NotAFrame("an MLLP frame starts with 0x0B")
    if not stripped.endswith(TRAILER) and not stripped.endswith(END_BLOCK):
        raise NotAFrame("an MLLP frame ends with 0x1C 0x0D")
    payload = stripped[1 : stripped.rindex(END_BLOCK)]
    if START_BLOCK in payload or END_BLOCK in payload:
        raise NotAFrame("more than one MLLP frame given")
    return payload


@dataclass
class MllpDecoder:
    """Whole MLLP payloads out of a byte stream fed in any pieces.

    Bytes outside a frame are junk: counted in `junk_bytes` and dropped. A 0x0B inside an
    unfinished frame starts a new frame (the unfinished one is counted in `abandoned_frames`).
    A frame growing beyond `max_frame_bytes` is dropped and counted in `oversized_frames`.
    """

    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    junk_bytes: int = 0
    abandoned_frames: int = 0
    oversized_frames: int = 0
    _buffer: bytearray | None = None  # None: between frames
    _skipping_oversized: bool = False

    def feed(self, data: bytes) -> list[bytes]:
        """The payloads of every frame completed by `data`, in order."""
        payloads: list[bytes] = []
        view = bytes(data)
        position = 0
        while position < len(view):
            if self._buffer is None and not self._skipping_oversized:
                start = view.find(START_BLOCK, position)
                if start < 0:
                    self.junk_bytes += len(view) - position
                    break
                self.junk_bytes += start - position
                self._buffer = bytearray()
                position = start + 1
                continue
            position = self._consume_frame_bytes(view, position, payloads)
        return payloads

    def _consume_frame_bytes(self, view: bytes, position: int, payloads: list[bytes]) -> int:
        """Bytes of the current frame from `position`; returns where reading stops."""
        restart = view.find(START_BLOCK, position)
        end = view.find(TRAILER, position)
        # A trailer split across reads: the buffer ends with 0x1C and this read starts with 0x0D.
        if (
            self._buffer is not None
            and self._buffer.endswith(END_BLOCK)
            and view[position : position + 1] == CARRIAGE_RETURN
        ):
            payloads.append(bytes(self._buffer[:-1]))
            self._buffer = None
            return position + 1
        if restart >= 0 and (end < 0 or restart < end):
            self._abandon_or_skip()
            self._buffer = bytearray()
            return restart + 1
        stop = len(view) if end < 0 else end
        if self._skipping_oversized:
            if end >= 0:
                self._skipping_oversized = False
                return end + 2
            return len(view)
        assert self._buffer is not None
        self._buffer += view[position:stop]
        if len(self._buffer) > self.max_frame_bytes:
            self.oversized_frames += 1
            self._buffer = None
            self._skipping_oversized = end < 0
            return len(view) if end < 0 else end + 2
        if end < 0:
            return len(view)
        payloads.append(bytes(self._buffer))
        self._buffer = None
        return end + 2

    def _abandon_or_skip(self) -> None:
        if self._skipping_oversized:
            self._skipping_oversized = False
        elif self._buffer is not None:
            self.abandoned_frames += 1

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished frame held for the next read."""
        return 0 if self._buffer is None else len(self._buffer)


class ByteReader(Protocol):
    """What `read_frames` needs of an `asyncio.StreamReader`."""

    async def read(self, n: int = -1) -> bytes: ...


async def read_frames(
    *, reader: ByteReader, decoder: MllpDecoder | None = None, chunk_bytes: int = 65536
) -> AsyncIterator[bytes]:
    """Each MLLP payload read from `reader` until it reaches end of stream."""
    decoder = decoder or MllpDecoder()
    while True:
        data = await reader.read(chunk_bytes)
        if not data:
            return
        for payload in decoder.feed(data):
            yield payload
