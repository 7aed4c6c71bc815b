"""Verify: keep only sentences grounded in the facts they cite; never lose a decision item.

The checker (tools.literature.verify with the facts per reference) drops sentences that
cite nothing, cite an unknown reference, or state a date, number, dose or unit their cited
facts do not. Then a guard: a decision fact that the verified text no longer cites (the
model left it out, or its sentence was dropped) is put back, in the deterministic wording,
at the top, so nothing needing a decision goes missing between the records and the reader.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.briefing.compose import cited
from agent.briefing.state import BriefFact
from tools.literature.verify import Verified, find_refs, verify

GUARD_HEADING = "## Also needing your decision (left out of the composed text)"


def facts_by_ref(facts: Sequence[BriefFact]) -> dict[str, list[str]]:
    """Each reference's fact texts: what a sentence citing it may state."""
    out: dict[str, list[str]] = {}
    for f in facts:
        for ref in f.refs:
            out.setdefault(ref, []).append(f.text)
    return out


def check(draft: str, facts: Sequence[BriefFact]) -> Verified:
    table = facts_by_ref(facts)
    return verify(draft, allowed_refs=set(table), facts=table)


@dataclass
class Checked:
    body: str
    kept: int
    dropped: list[tuple[str, str]]
    restored: int  # decision facts put back by the guard


def missing_decisions(text: str, facts: Sequence[BriefFact]) -> list[BriefFact]:
    """Decision facts none of whose references the text cites."""
    cited_refs = set(find_refs(text))
    return [f for f in facts if f.section == "decision" and not cited_refs & set(f.refs)]


def check_with_guard(draft: str, facts: Sequence[BriefFact]) -> Checked:
    verified = check(draft, facts)
    missing = missing_decisions(verified.text, facts)
    body = verified.text
    if missing and verified.kept:
        guard = check(GUARD_HEADING + "\n\n" + "\n".join(f"- {cited(f)}" for f in missing), facts)
        body = guard.text + "\n\n" + body
    return Checked(
        body, verified.kept_count, verified.dropped, len(missing) if verified.kept else 0
    )


def dropped_summary(dropped: Sequence[tuple[str, str]]) -> str:
    """'2 sentences removed: 1 cited no source, 1 stated what its sources do not.'"""
    if not dropped:
        return "No sentence was removed."
    reasons = Counter(why.split(":", 1)[0] for _, why in dropped)
    words = {
        "no citation": "cited no source",
        "cites unknown reference": "cited a source not in the records",
        "cites unknown references": "cited sources not in the records",
        "states what its sources do not": "stated a date or figure its sources do not",
    }
    parts = [f"{n} {words.get(reason, reason)}" for reason, n in reasons.items()]
    n = len(dropped)
    return f"{n} sentence{'s' if n != 1 else ''} removed: {'; '.join(parts)}."
