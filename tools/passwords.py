"""The password policy (NIST SP 800-63B): what a new password must be, and generated ones.

One `check_password` for the CLI, the API and the web app. Hashing and sessions are
`tools.users`'.
"""

from __future__ import annotations

import functools
import re
import secrets
import string
import unicodedata
from collections.abc import Iterable

from tools.errors import InvalidInput

# NIST SP 800-63B rev. 4 (3.1.1.2): at least 15 characters for a password that is the only
# factor (8 only when it is part of multi-factor authentication; Steve has no second factor),
# and at least 64 allowed. Lengths count Unicode code points after NFKC normalisation.
MIN_PASSWORD = 15
MAX_PASSWORD = 256
# Fewer characters than this that are not a repeat or the next step of a run
# ('aaaa', '1234', 'qwerty', 'abab') is a repetitive or sequential password.
MIN_FREE_CHARACTERS = 8


def generate_password(*, context: Iterable[str] = ()) -> str:
    """A one-time password for a new account (~120 bits) that passes `check_password`."""
    words = list(context)
    while True:
        password = secrets.token_urlsafe(15)
        try:
            check_password(password, context=words)
        except InvalidInput:  # a context word by chance (rare): draw again
            continue
        return password


# ------------------------------------------------------------ password policy


def normalise_password(password: str) -> str:
    """NFKC, as NIST SP 800-63B asks, so the same text typed two ways is one password."""
    return unicodedata.normalize("NFKC", password)


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most frequent passwords of a 10-million-password leak corpus, as shipped
    (lower-cased) in the zxcvbn package's frequency lists: checked offline."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


_RUNS = (
    "01234567890",
    string.ascii_lowercase,
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1q2w3e4r5t6y7u8i9o0p",
)
_NEXT = frozenset((run[i], run[i + 1]) for run in _RUNS for i in range(len(run) - 1))


def _step(a: str, b: str) -> int | None:
    """0 for a repeat, +1/-1 for the next/previous character of a run, else None."""
    if a == b:
        return 0
    if (a, b) in _NEXT or ord(b) - ord(a) == 1:
        return 1
    if (b, a) in _NEXT or ord(a) - ord(b) == 1:
        return -1
    return None


def _free_characters(text: str) -> int:
    """Characters that neither continue a run ('aaa', '123', 'qwe', 'cba') nor repeat the
    text some distance back ('abab', 'xyzxyz'): a rough count of what a guesser must guess."""
    free = 0
    for i, ch in enumerate(text):
        if i >= 2:
            before = _step(text[i - 2], text[i - 1])
            if before is not None and before == _step(text[i - 1], ch):
                continue  # continues a run
        if any(ch == text[i - p] and text[i - 1] == text[i - 1 - p] for p in range(2, i)):
            continue  # repeats the pair seen p characters back
        free += 1
    return free


def _is_repeated_unit(text: str) -> bool:
    n = len(text)
    return any(n % p == 0 and text == text[:p] * (n // p) for p in range(1, n // 2 + 1))


def _words(text: str) -> list[str]:
    """The parts of a name worth refusing in a password (3 characters or more)."""
    folded = normalise_password(text).casefold()
    return [w for w in re.split(r"[^\w]+|_", folded) if len(w) >= 3]


def password_context(
    *, username: str, person_name: str | None = None, practice_name: str | None = None
) -> list[str]:
    """The context words `check_password` refuses, in the order of its messages' kinds:
    the username, the person's name parts, then Steve and the practice name."""
    out = [f"user:{normalise_password(username).strip().casefold()}"]
    out += [f"name:{w}" for w in _words(person_name or "")]
    out += [f"service:{w}" for w in ["steve", *_words(practice_name or "")]]
    return out


_CONTEXT_MESSAGES = {
    "user": "a password cannot contain your username",
    "name": "a password cannot contain your name",
    "service": "a password cannot contain the name of the practice or of Steve",
}


def check_password(password: str, *, context: Iterable[str] = ()) -> str:
    """The NFKC-normalised password when it meets the policy (NIST SP 800-63B), else
    InvalidInput naming the rule it breaks (never the password). Used by the CLI, the API
    and the web app alike. `context`: from `password_context` (plain words count as
    names of the service)."""
    text = normalise_password(password)
    if len(text) < MIN_PASSWORD:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD} characters (a few words make a good one)"
        )
    if len(text) > MAX_PASSWORD:
        raise InvalidInput(f"a password can have at most {MAX_PASSWORD} characters")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidInput("a password cannot contain control characters (tabs, line breaks)")
    folded = text.casefold()
    squeezed = re.sub(r"[\W_]+", "", folded)
    for entry in [*context, "service:steve"]:
        kind, _, word = entry.rpartition(":")
        if word and len(word) >= 3 and (word in folded or word in squeezed):
            raise InvalidInput(_CONTEXT_MESSAGES.get(kind, _CONTEXT_MESSAGES["service"]))
    core = folded.strip(string.digits + string.punctuation + string.whitespace)
    common = _common_passwords()
    if any(c in common for c in (folded, folded.replace(" ", ""), core, squeezed)):
        raise InvalidInput(
            "that password is on a list of common or breached passwords (digits or symbols "
            "added to one do not help); choose another"
        )
    if _is_repeated_unit(folded) or _free_characters(folded) < MIN_FREE_CHARACTERS:
        raise InvalidInput(
            "a password cannot be mostly repeated or sequential characters (like 'aaaa', "
            "'1234', 'abcd' or 'qwerty')"
        )
    return text
