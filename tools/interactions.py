"""A small curated table of medication-supplement interactions, kept as data.

The table is `tools/data/interactions.csv`: one row per interaction, each with the medication
and supplement it concerns (as `|`-separated terms matched as whole words, any case), how
much it matters, what happens, what to do, and its reference (an NIH ODS or NCCIH monograph,
or a UK summary of product characteristics). It covers interactions an integrative practice
meets often; it is a prompt to look, not a complete interaction checker, and a clinician or
pharmacist should review it before a practice relies on it. Briefings cite a row as
`interaction:<id>`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tools.errors import ConfigError

TABLE = Path(__file__).resolve().parent / "data" / "interactions.csv"
SEVERITIES = ("major", "moderate", "minor", "monitor")  # most serious first
_COLUMNS = (
    "id",
    "medication",
    "medication_terms",
    "supplement",
    "supplement_terms",
    "severity",
    "effect",
    "advice",
    "source",
    "url",
)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Interaction:
    id: str
    medication: str
    medication_terms: tuple[str, ...]
    supplement: str
    supplement_terms: tuple[str, ...]
    severity: str
    effect: str
    advice: str
    source: str
    url: str

    @property
    def ref(self) -> str:
        return f"interaction:{self.id}"


@dataclass(frozen=True)
class InteractionFlag:
    interaction: Interaction
    medication_ref: str  # e.g. 'medication:12'
    medication_name: str
    supplement_ref: str  # e.g. 'supplement:44'
    supplement_name: str


def _terms(raw: str) -> tuple[str, ...]:
    return tuple(t.strip().lower() for t in raw.split("|") if t.strip())


@lru_cache(maxsize=4)
def load_interactions(path: Path = TABLE) -> tuple[Interaction, ...]:
    """The table, checked: a malformed row is a configuration error naming the row."""
    rows: list[Interaction] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise ConfigError(f"{path.name}: columns must be {', '.join(_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            ident = (row.get("id") or "").strip()
            if not _ID.match(ident) or ident in seen:
                raise ConfigError(f"{path.name} line {line}: missing, invalid or repeated id")
            if row["severity"] not in SEVERITIES:
                raise ConfigError(f"{path.name} line {line}: unknown severity")
            if not all((row.get(c) or "").strip() for c in _COLUMNS):
                raise ConfigError(f"{path.name} line {line}: every column needs a value")
            seen.add(ident)
            rows.append(
                Interaction(
                    id=ident,
                    medication=row["medication"].strip(),
                    medication_terms=_terms(row["medication_terms"]),
                    supplement=row["supplement"].strip(),
                    supplement_terms=_terms(row["supplement_terms"]),
                    severity=row["severity"],
                    effect=row["effect"].strip(),
                    advice=row["advice"].strip(),
                    source=row["source"].strip(),
                    url=row["url"].strip(),
                )
            )
    return tuple(rows)


@lru_cache(maxsize=4096)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE)


def mentions(text: str, terms: tuple[str, ...]) -> bool:
    return bool(_pattern(terms).search(text))


def find_interactions(
    *,
    medications: Iterable[tuple[str, str]],
    supplements: Iterable[tuple[str, str]],
    table: Iterable[Interaction] | None = None,
) -> list[InteractionFlag]:
    """Every table interaction between a current medication and an active supplement.

    `medications` and `supplements` are (reference, name) pairs, e.g. ('medication:12',
    'Levothyroxine'). Most serious first, then in the order given.
    """
    table = tuple(table) if table is not None else load_interactions()
    meds, sups = list(medications), list(supplements)
    flags: list[InteractionFlag] = []
    for interaction in table:
        for med_ref, med_name in meds:
            if not mentions(med_name, interaction.medication_terms):
                continue
            for sup_ref, sup_name in sups:
                if mentions(sup_name, interaction.supplement_terms):
                    flags.append(InteractionFlag(interaction, med_ref, med_name, sup_ref, sup_name))
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(flags, key=lambda f: order[f.interaction.severity])
