"""Numeric grounding: the dates, times, numbers, doses and units a sentence states must appear
in the facts it cites.

Small models copy a fact's reference correctly and still change what it says ("magnesium
started 2026-11-01" becomes "started 2026-11-15"; "240 mg" becomes "400 mg"). Citation checks
cannot see that, so `ungrounded_claims` compares the claims themselves:

- dates: ISO (2026-11-01), "1 November 2026", "1 Nov", "November 1, 2026", "01/11/2026"
  (day first, as written in the UK); a date without a year matches on day and month;
  "November 2026" matches any date in that month;
- clock times (09:30);
- numbers, with the unit that follows them when there is one ("240 mg", "5.8 mmol/L",
  "12 days", "35%"). A number with a unit must appear in the cited facts with the same value
  and unit (mcg, ug and µg are one unit; mU/L and mIU/L too); a bare number must appear
  with any unit. "2,000" equals "2000" and "5.20" equals "5.2"; rounding does not pass.

Digits inside words are names, not claims: B12, CoQ10, omega-3, LI4, D3. Numbers written as
words ("two weeks") are not checked. References (`lab:412`, `[pmid:1]`) are not claims.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"

_REF = re.compile(r"\[[^\[\]\n]*\]|\b[A-Za-z][A-Za-z0-9_-]*:[^\s,;\])]*\d[^\s,;\])]*")
_ISO = re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?!\d)")
_DAY_MONTH = re.compile(
    rf"(?<![\w.])(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH}(?:,?\s+(?P<y>\d{{4}}))?\b",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"\b{_MONTH}\s+(?P<d>\d{{1,2}}){_ORD}(?!\d)(?:,?\s+(?P<y>\d{{4}}))?\b", re.IGNORECASE
)
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+(?P<y>\d{{4}})\b", re.IGNORECASE)
_SLASHED = re.compile(r"(?<![\d/])(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})(?![\d/])")
_TIME = re.compile(r"(?<![\d:.])(?P<h>\d{1,2}):(?P<mi>\d{2})(?![\d:])")

# Units longest first, so "mmol/L" wins over "mmol" and "mg/dL" over "mg".
_UNIT_WORDS = """
    mmol/l umol/l µmol/l μmol/l nmol/l pmol/l mmol mol/l miu/l mu/l iu/l u/l g/l g/dl mg/l
    mg/dl mcg/l ug/l µg/l μg/l ng/ml ng/l pg/ml mcg/ml mg/ml x10^9/l x10^12/l 10^9/l 10^12/l
    mcg µg μg ug mg g kg ml l iu units unit mmhg bpm cm mm kg/m2 hz % min mins minute minutes
    h hr hrs hour hours day days d week weeks wk wks month months year years yr yrs
    capsule capsules tablet tablets drop drops scoop scoops sessions session times x
"""
_UNITS = sorted(
    _UNIT_WORDS.split(),
    key=len,
    reverse=True,
)
_UNIT = "|".join(re.escape(u) for u in _UNITS)
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.,^])(?<![A-Za-z]-)"
    r"(?P<value>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?:\s?(?P<unit>{_UNIT})(?![A-Za-z0-9]))?"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_UNIT_ALIASES = {
    "mins": "min",
    "minute": "min",
    "minutes": "min",
    "h": "hour",
    "hr": "hour",
    "hrs": "hour",
    "hours": "hour",
    "d": "day",
    "days": "day",
    "weeks": "week",
    "wk": "week",
    "wks": "week",
    "months": "month",
    "years": "year",
    "yr": "year",
    "yrs": "year",
    "units": "unit",
    "capsules": "capsule",
    "tablets": "tablet",
    "drops": "drop",
    "scoops": "scoop",
    "sessions": "session",
    "times": "x",
    "mu/l": "miu/l",
}


@dataclass(frozen=True)
class Claim:
    kind: str  # "date", "month", "time" or "number"
    written: str  # as it appears in the text
    key: tuple[object, ...]  # normalised for comparison


def _unit(raw: str | None) -> str | None:
    if not raw:
        return None
    unit = raw.lower().replace("μ", "µ").replace("µg", "mcg").replace("ug", "mcg")
    unit = unit.replace("µmol", "umol")
    return _UNIT_ALIASES.get(unit, unit)


def _decimal(raw: str) -> str:
    try:
        return format(Decimal(raw.replace(",", "")).normalize(), "f")
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        return raw


def _year(raw: str | None) -> int | None:
    return int(raw) if raw else None


@lru_cache(maxsize=16384)
def extract_claims(text: str) -> tuple[Claim, ...]:
    """Every date, time and number `text` states (references are not claims)."""
    text = _REF.sub(" ", text)
    claims: list[Claim] = []
    spans: list[tuple[int, int]] = []

    def take(m: re.Match[str], claim: Claim) -> None:
        claims.append(claim)
        spans.append(m.span())

    def free(m: re.Match[str]) -> bool:
        return not any(s < m.end() and m.start() < e for s, e in spans)

    for m in _ISO.finditer(text):
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        take(m, Claim("date", m.group(0), (y, mo, d)))
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        for m in pattern.finditer(text):
            if free(m) and 1 <= int(m["d"]) <= 31:
                key = (_year(m["y"]), _MONTHS[m["month"].lower()], int(m["d"]))
                take(m, Claim("date", m.group(0), key))
    for m in _SLASHED.finditer(text):
        if free(m):
            take(m, Claim("date", m.group(0), (int(m["y"]), int(m["m"]), int(m["d"]))))
    for m in _MONTH_YEAR.finditer(text):
        if free(m):
            take(m, Claim("month", m.group(0), (int(m["y"]), _MONTHS[m["month"].lower()])))
    for m in _TIME.finditer(text):
        if free(m):
            take(m, Claim("time", m.group(0), (int(m["h"]), int(m["mi"]))))
    for m in _NUMBER.finditer(text):
        if free(m):
            claims.append(
                Claim("number", m.group(0).strip(), (_decimal(m["value"]), _unit(m["unit"])))
            )
    return tuple(claims)


@dataclass
class _Known:
    dates: set[tuple[int | None, int, int]]
    days: set[tuple[int, int]]  # (month, day) of every known date
    months: set[tuple[int, int]]
    times: set[tuple[int, int]]
    numbers: set[tuple[str, str | None]]
    values: set[str]


def _known(texts: Iterable[str]) -> _Known:
    k = _Known(set(), set(), set(), set(), set(), set())
    for text in texts:
        for c in extract_claims(text):
            if c.kind == "date":
                y, mo, d = c.key
                assert isinstance(mo, int) and isinstance(d, int)
                k.dates.add((y if isinstance(y, int) else None, mo, d))
                k.days.add((mo, d))
                if isinstance(y, int):
                    k.months.add((y, mo))
                    k.values.add(str(y))
            elif c.kind == "month":
                y, mo = c.key
                assert isinstance(y, int) and isinstance(mo, int)
                k.months.add((y, mo))
                k.values.add(str(y))
            elif c.kind == "time":
                h, mi = c.key
                assert isinstance(h, int) and isinstance(mi, int)
                k.times.add((h, mi))
            else:
                value, unit = c.key
                assert isinstance(value, str)
                k.numbers.add((value, unit if isinstance(unit, str) else None))
                k.values.add(value)
    return k


def _grounded(claim: Claim, known: _Known) -> bool:
    if claim.kind == "date":
        y, mo, d = claim.key
        assert isinstance(mo, int) and isinstance(d, int)
        if y is None:
            return (mo, d) in known.days
        return (y, mo, d) in known.dates or (None, mo, d) in known.dates
    if claim.kind == "month":
        return claim.key in known.months
    if claim.kind == "time":
        return claim.key in known.times
    value, unit = claim.key
    assert isinstance(value, str)
    if unit is None:
        return value in known.values
    return (value, unit) in known.numbers


def ungrounded_claims(sentence: str, sources: Iterable[str]) -> list[str]:
    """The claims of `sentence` (as written) that none of `sources` states."""
    claims = extract_claims(sentence)
    if not claims:
        return []
    known = _known(sources)
    return [c.written for c in claims if not _grounded(c, known)]
