"""Conflicting guidance between practitioners, found in the records (no model involved).

A conflict is two pieces of guidance about one supplement that cannot both hold:

- `stopped_but_continued`: the supplement list says it was stopped, and a later note by
  someone else (not whoever stopped it) says it continues;
- `stopped_but_active`: it was stopped, yet the same product is active on the list under a
  different prescriber;
- `note_stop_vs_active`: a practitioner's note says to stop it, yet it is active on the list
  under a different prescriber;
- `notes_disagree`: one practitioner's note says stop, another's says continue.

Interactions between a current medication and a supplement come from the curated table
(tools.interactions). Notes are matched sentence by sentence: a sentence that names the
product (its name up to the dose, or its first distinctive word: "magnesium", "omega-3")
and a stop or continue cue. A negated sentence ("do not stop") counts as neither: that can
hide a conflict but never invent one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, tzinfo

from db.models import CareMessage, ClinicalNote, MessageKind, SupplementItem, SupplementStatus
from tools.citations import split_sentences

_STOP = re.compile(
    r"\b(stop|stopped|stopping|discontinue|discontinued|cease|ceased|withdraw|withdrawn)\b", re.I
)
_CONTINUE = re.compile(
    r"\b(continue|continued|continuing|carry on|keep taking|maintain|maintained|restart|"
    r"restarted|resume|resumed)\b",
    re.I,
)
_NEGATED = re.compile(r"\b(not|n't|never|no longer)\b", re.I)
_GENERIC_FIRST = {"vitamin", "methylated", "enteric-coated", "multi-strain", "liposomal"}


@dataclass(frozen=True)
class Conflict:
    kind: str  # see the module docstring
    product: str  # the supplement as the list names it
    first_ref: str  # the stop: 'supplement:N' or 'note:N'
    first_by: int | None  # practitioner id, None when not recorded
    first_on: date | None
    second_ref: str  # the other guidance: 'note:N' or 'supplement:N'
    second_by: int | None
    second_on: date | None

    @property
    def refs(self) -> tuple[str, str]:
        return (self.first_ref, self.second_ref)


def product_terms(product: str) -> tuple[str, ...]:
    """How notes name a product: its name before the dose, and its first distinctive word."""
    key = re.split(r"\s\d|\(", product, maxsplit=1)[0].strip().lower()
    words = key.split()
    if not words:
        return ()
    short = " ".join(words[:2]) if words[0] in _GENERIC_FIRST else words[0]
    return tuple(dict.fromkeys(t for t in (key, short) if len(t) >= 4))


def _names(text: str, terms: Sequence[str]) -> bool:
    lowered = text.lower()
    return any(re.search(r"(?<![\w-])" + re.escape(t) + r"(?![\w-])", lowered) for t in terms)


def note_says(note: ClinicalNote, terms: Sequence[str]) -> str | None:
    """'stop', 'continue' or None: what a note says about the product named by `terms`."""
    return _says(split_sentences(note.body), terms)


def _says(sentences: Sequence[str], terms: Sequence[str]) -> str | None:
    said: set[str] = set()
    for sentence in sentences:
        if not _names(sentence, terms) or _NEGATED.search(sentence):
            continue
        if _STOP.search(sentence):
            said.add("stop")
        elif _CONTINUE.search(sentence):
            said.add("continue")
    return said.pop() if len(said) == 1 else None


def _stopper(item: SupplementItem, messages: Iterable[CareMessage]) -> int | None:
    """Who stopped it: the sender of the care-team message announcing the stop."""
    for m in messages:
        if (
            m.kind == MessageKind.SUPPLEMENT_CHANGE
            and m.source_ref == f"supplement:{item.id}"
            and m.body.lower().startswith("stopped")
        ):
            return m.sender_id
    return None


def find_conflicts(
    *,
    supplements: Sequence[SupplementItem],
    notes: Sequence[ClinicalNote],
    messages: Sequence[CareMessage] = (),
    tz: tzinfo = UTC,
) -> list[Conflict]:
    """Conflicting guidance among the patient's supplement records and recent notes.

    `supplements`: active items and those changed recently (stopped ones included);
    `notes`: recent notes, oldest first. Each pair of records is reported once.
    """
    found: dict[tuple[str, str], Conflict] = {}
    by_id = {s.id: s for s in supplements}
    items = [by_id[k] for k in sorted(k for k in by_id if k is not None)]
    active = [s for s in items if s.status == SupplementStatus.ACTIVE]
    sentences = {n.id: split_sentences(n.body) for n in notes}  # once, not once per product
    for item in items:
        terms = product_terms(item.product)
        if not terms:
            continue
        said = _Said(notes, {n.id: _says(sentences[n.id], terms) for n in notes}, tz)
        if item.status == SupplementStatus.STOPPED and item.stopped_on is not None:
            conflicts = _after_stop(item, item.stopped_on, terms, said, active, messages)
        else:
            conflicts = _against_active(item, said)
        for c in conflicts:
            found.setdefault(c.refs, c)
    return list(found.values())


@dataclass(frozen=True)
class _Said:
    """What each recent note says about one product ('stop', 'continue' or None)."""

    notes: Sequence[ClinicalNote]
    by_note: dict[int | None, str | None]
    tz: tzinfo

    def saying(self, what: str) -> list[ClinicalNote]:
        return [n for n in self.notes if self.by_note[n.id] == what]

    def day(self, note: ClinicalNote) -> date:
        """The practice's calendar day of the note."""
        return note.written_at.astimezone(self.tz).date()


def _after_stop(
    item: SupplementItem,
    stopped_on: date,
    terms: Sequence[str],
    said: _Said,
    active: Sequence[SupplementItem],
    messages: Iterable[CareMessage],
) -> Iterator[Conflict]:
    """A stopped item: later notes by others that continue it, others' active namesakes."""
    by = _stopper(item, messages)
    item_ref = f"supplement:{item.id}"
    for note in said.saying("continue"):
        if said.day(note) >= stopped_on and (by is None or note.practitioner_id != by):
            yield Conflict(
                "stopped_but_continued",
                item.product,
                item_ref,
                by,
                stopped_on,
                f"note:{note.id}",
                note.practitioner_id,
                said.day(note),
            )
    for other in active:
        if (
            other.id != item.id
            and _names(other.product, terms)
            and (by is None or other.prescriber_id != by)
        ):
            yield Conflict(
                "stopped_but_active",
                item.product,
                item_ref,
                by,
                stopped_on,
                f"supplement:{other.id}",
                other.prescriber_id,
                other.started_on,
            )


def _against_active(item: SupplementItem, said: _Said) -> Iterator[Conflict]:
    """An item still on the list: notes by others that stop it, notes that disagree."""
    for note in said.saying("stop"):
        if note.practitioner_id != item.prescriber_id:
            yield Conflict(
                "note_stop_vs_active",
                item.product,
                f"note:{note.id}",
                note.practitioner_id,
                said.day(note),
                f"supplement:{item.id}",
                item.prescriber_id,
                item.started_on,
            )
        for later in said.saying("continue"):
            if later.practitioner_id != note.practitioner_id:
                yield Conflict(
                    "notes_disagree",
                    item.product,
                    f"note:{note.id}",
                    note.practitioner_id,
                    said.day(note),
                    f"note:{later.id}",
                    later.practitioner_id,
                    said.day(later),
                )
