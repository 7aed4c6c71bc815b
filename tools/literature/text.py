"""Text normalisation shared by deduplication and lexical relevance."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation as spaces: 'Low-FODMAP Diet!' -> 'low fodmap diet'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", stripped.casefold()).split())


def stem(word: str) -> str:
    """A deliberately small stemmer, plurals only: 'migraines' -> 'migraine'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    return [stem(w) for w in fold(text).split()]


_FLAG = re.compile(r"^(retracted|withdrawn|expression of concern)\s+")


def title_key(title: str) -> str:
    """The key two copies of one paper's title share, whatever their punctuation or case.

    A feed's 'RETRACTED: <title>' is the same paper as PubMed's '<title>'.
    """
    return _FLAG.sub("", fold(title))[:500]
