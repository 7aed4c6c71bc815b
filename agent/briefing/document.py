"""A briefing as a document: its sections, its composers, its decision guard, its page.

The pipeline is agent.documents (compose -> verify -> render); a briefing adds what only it
has: facts sorted into sections with decisions first (an empty decision section still says
so), the guard that puts back any decision the composed text lost, and the header and
source list of its page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from agent.briefing.state import SECTION_TITLES
from agent.documents import compose
from agent.documents.facts import Fact
from agent.documents.render import checker_line, render_document
from agent.documents.verify import Checked
from agent.documents.verify import check_with_guard as checked_with_guard
from prompts.loader import load_prompt
from tools.citations import find_refs

NOTHING_TO_DECIDE = f"## {SECTION_TITLES['decision']}: nothing flagged"
GUARD_HEADING = "## Also needing your decision (left out of the composed text)"
_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")


def deterministic_body(facts: Sequence[Fact]) -> str:
    """Every fact under its section heading, decisions first; empty sections left out."""
    return compose.sectioned_body(
        facts, titles=SECTION_TITLES, when_empty={"decision": NOTHING_TO_DECIDE}
    )


def messages(facts: Sequence[Fact]) -> list[BaseMessage]:
    """The one model call's messages (instructions: prompts/briefing/system.md)."""
    return compose.messages(load_prompt("briefing/system"), facts)


def is_decision(fact: Fact) -> bool:
    return fact.section == "decision"


def check_with_guard(draft: str, facts: Sequence[Fact]) -> Checked:
    """The checked body; decision facts it no longer cites put back at the top."""
    return checked_with_guard(draft, facts, required=is_decision, heading=GUARD_HEADING)


@dataclass
class Rendered:
    markdown: str
    html: str
    cited: list[str]  # references the body cites, in order of first appearance


def render_briefing(
    *,
    header: Mapping[str, Any],
    body: str,
    sources: Mapping[str, str],
    links: Mapping[str, str],
    kept: int,
    dropped: Sequence[tuple[str, str]],
    notes: Sequence[str],
    mode: str,
) -> Rendered:
    cited = find_refs(body)
    rows = [
        {
            "ref": ref,
            "label": sources.get(ref, ref.partition(":")[0]),
            "url": links.get(ref),
            "anchor": _ANCHOR.sub("-", ref),
        }
        for ref in cited
    ]
    composed_by = (
        "Composed by the language model from the records below."
        if mode == "model"
        else "Composed directly from the records below."
    )
    page = render_document(
        "briefing",
        "briefing",
        header=header,
        notes=list(notes),
        body=body,
        composed_by=composed_by,
        checker_line=checker_line(kept, list(dropped)),
        source_rows=rows,
    )
    return Rendered(markdown=page.markdown, html=page.html, cited=cited)
