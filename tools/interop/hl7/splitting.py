"""A file or MLLP payload cut into HL7 v2 messages: bytes decoded as MSH-18 declares,
segments ending in \\r, \\n or \\r\\n, each message starting at an MSH segment, batch
envelopes (FHS, BHS, BTS, FTS) dropped."""

from __future__ import annotations

import re

_SEGMENT_END = re.compile(r"\r\n|\r|\n")
_BATCH_SEGMENTS = ("FHS", "BHS", "BTS", "FTS")
#: MSH-18 values (HL7 table 0211) and the Python codec each names; no MSH-18 means ASCII,
#: read here as UTF-8 (a superset) falling back to Latin-1, as labs' files often are.
_CHARSETS = {
    "ASCII": "ascii",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/5": "iso8859-5",
    "8859/7": "iso8859-7",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
}


def decode_payload(*, data: bytes) -> str:
    """`data` as text: in the character set the first MSH-18 names when Python knows it,
    else UTF-8, else Latin-1 (which decodes any bytes, so this never fails)."""
    codec = _CHARSETS.get(_declared_charset(data=data), "utf-8")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _declared_charset(*, data: bytes) -> str:
    start = data.find(b"MSH")
    if start < 0 or len(data) < start + 4:
        return ""
    first_line = _SEGMENT_END.split(data[start:].decode("latin-1"), maxsplit=1)[0]
    if len(first_line) < 4:
        return ""
    fields = first_line.split(first_line[3])
    # fields[1] is MSH-2, so MSH-18 is fields[17]; its first repetition counts.
    return fields[17].split("~")[0].strip().upper() if len(fields) > 17 else ""


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
