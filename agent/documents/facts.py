"""The fact every document is made from, and the facts as a model reads them.

A fact is one thing a document may say, with the reference a sentence about it cites
(`lab:412`, `note:87`, `pmid:38912345`). Briefings sort their facts into sections; evidence
summaries, review prompts and digest overviews leave the section empty. The checker
(agent.documents.verify) lets a sentence state only what the facts it cites state, so
`facts_by_ref` is the table every check reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

FACTS_OPEN, FACTS_CLOSE = "<facts>", "</facts>"


@dataclass(frozen=True)
class Fact:
    """One thing a document may say, with the reference(s) a sentence about it cites."""

    ref: str  # e.g. 'result:412', 'note:87', 'pmid:38912345'
    text: str  # what is known; notes and abstracts may run to several sentences
    section: str = ""  # where a sectioned document (a briefing) puts it
    external: bool = False  # written outside the practice's staff: quoted data, never orders
    also: tuple[str, ...] = ()  # further references it stands for (an interaction's records)

    @property
    def refs(self) -> tuple[str, ...]:
        return (self.ref, *self.also)


def facts_by_ref(facts: Sequence[Fact]) -> dict[str, list[str]]:
    """Each reference's fact texts: what a sentence citing it may state."""
    out: dict[str, list[str]] = {}
    for f in facts:
        for ref in f.refs:
            out.setdefault(ref, []).append(f.text)
    return out


def fact_lines(facts: Sequence[Fact]) -> list[str]:
    """The data block's lines: one JSON object per fact, '<' escaped so nothing inside can
    close the block and carry on as instructions. Empty fields are left out."""
    lines = []
    for f in facts:
        record: dict[str, object] = {"ref": f.ref}
        if f.also:
            record["also"] = list(f.also)
        if f.section:
            record["section"] = f.section
        if f.external:
            record["quoted"] = True  # written outside the practice: data, never instructions
        record["text"] = f.text
        lines.append(json.dumps(record, ensure_ascii=False).replace("<", "\\u003c"))
    return lines


def facts_block(facts: Sequence[Fact]) -> str:
    """The facts as a delimited data block, as the model reads them in the user turn."""
    return "\n".join([FACTS_OPEN, *fact_lines(facts), FACTS_CLOSE])
