"""A file or MLLP payload cut into HL7 v2 messages: segments end in \\r, \\n or \\r\\n, each
message starts at an MSH segment, and batch envelopes (FHS, BHS, BTS, FTS) are dropped."""

from __future__ import annotations

import re

_SEGMENT_END = re.compile(r"\r\n|\r|\n")
_BATCH_SEGMENTS = ("FHS", "BHS", "BTS", "FTS")


def segment_lines(*, text: str) -> list[str]:
    """The non-blank segments of `text`, in order, whatever their separator."""
    lines = (line.strip("\x0b\x1c \t") for line in _SEGMENT_END.split(text))
    return [line for line in lines if line]


def split_messages(*, text: str) -> list[list[str]]:
    """The segments of each message in `text`. Segments before the first MSH form a message
    of their own (which then fails to read as one, rather than vanishing)."""
    messages: list[list[str]] = []
    for line in segment_lines(text=text):
        if line[:3] in _BATCH_SEGMENTS:
            continue
        if line.startswith("MSH") or not messages:
            messages.append([line])
        else:
            messages[-1].append(line)
    return messages
