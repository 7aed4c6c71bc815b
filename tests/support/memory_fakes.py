"""Small stand-ins for memory tests that exercise the store and Chroma, not the model."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence

import pytest

from memory.documents import MemoryDocument

SECRET = "Zanzibar-hepatitis"  # patient text that must never reach an error message
FIX = "move it aside and run `steve memory reindex`"


class WordHash:
    """Bag of words hashed into 384 dimensions, unit length: same words, same direction."""

    name = "test-word-hash"
    dim = 384

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        out = []
        for text in texts:
            vector = [0.0] * self.dim
            for word in re.findall(r"\w+", text.lower()):
                vector[zlib.crc32(word.encode()) % self.dim] += 1.0
            norm = math.sqrt(sum(x * x for x in vector)) or 1.0
            out.append([x / norm for x in vector])
        return out


def note(n: int, text: str, patient_id: int = 1) -> MemoryDocument:
    return MemoryDocument(f"note:{n}", "notes", text, {"patient_id": patient_id})


def one_line_without_data(err: pytest.ExceptionInfo[Exception], *data: str) -> str:
    message = str(err.value)
    assert "\n" not in message and "Traceback" not in message
    for text in (SECRET, *data):
        assert text not in message
    return message
