"""Prompt-token counts: tiktoken's cl100k_base when its encoding is on disk, else an estimate.

tiktoken downloads its encodings on first use, which a practice without network cannot do,
so it is used only when the encoding file is already in tiktoken's cache (TIKTOKEN_CACHE_DIR,
DATA_GYM_CACHE_DIR, or the temp directory's data-gym-cache), never fetched.

The estimate follows cl100k's pre-tokeniser: a run of letters costs one token per five
letters begun (common words are one token; long clinical words split), digits go in groups
of up to three (one token each, as cl100k splits them), a run of punctuation one token per
two characters, a space before a word nothing and any other run of whitespace one. On
English prose and JSON facts it errs high rather than low (prose is about four characters a
token; this counts dates, doses and JSON punctuation at the rates cl100k charges for them).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from functools import lru_cache
from typing import Any

_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
_PIECE = re.compile(r"[^\W\d_]+|\d{1,3}|\s+|[^\w\s]+|_+")


@lru_cache(maxsize=1)
def _encoding() -> Any | None:
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache = cache or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not os.path.isfile(os.path.join(cache, hashlib.sha1(_CL100K_URL.encode()).hexdigest())):
        return None
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base")
    except Exception:  # a broken cache or missing package: fall back to the estimate
        return None


def counter_name() -> str:
    """Which counter `estimate_tokens` uses, for reports."""
    return "tiktoken cl100k_base" if _encoding() is not None else "estimate (cl100k-shaped)"


def estimate_tokens(text: str) -> int:
    encoding = _encoding()
    if encoding is not None:
        return len(encoding.encode(text))
    total = 0
    for m in _PIECE.finditer(text):
        piece = m.group(0)
        if piece.isspace():
            total += 0 if piece == " " else 1
        elif piece[0].isdigit():
            total += 1
        elif piece[0].isalpha():
            total += math.ceil(len(piece) / 5)
        else:
            total += math.ceil(len(piece) / 2)
    return total
