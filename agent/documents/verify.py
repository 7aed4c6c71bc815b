"""Verify: keep only the sentences grounded in the facts they cite.

Every document passes through here before it is rendered. A sentence is kept only if it
cites at least one reference (tools.citations syntax) and every reference it cites is
allowed; given the facts behind each reference, it must also state no date, time, number,
dose or unit those facts do not (agent.documents.claims). Markdown structure survives:
headings are kept without a citation (unless they cite something unknown or state what no
fact states), bullet items are verified sentence by sentence and vanish when nothing in
them survives.

On top of the sentence check:
- `check_with_guard`: facts that must not go missing (a briefing's decisions) and that the
  verified text no longer cites are put back, in the deterministic wording, at the top;
- `ground_judgement`: the judge hook; a contradiction judge's reason is shown to the
  physician, so it is grounded like any other sentence before it can raise a flag.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from agent.documents.claims import ungrounded_claims
from agent.documents.compose import cited
from agent.documents.facts import Fact, facts_by_ref
from db.models import Article, ClinicalProtocol
from tools.citations import find_refs, normalise_ref, split_sentences
from tools.literature.contradiction import Judgement, protocol_ref

_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+)(.*)$")


@dataclass(frozen=True)
class Verified:
    text: str  # the verified document, Markdown structure kept
    kept: list[str]  # sentences kept (headings are structure, not listed)
    dropped: list[tuple[str, str]]  # (sentence, why)

    @property
    def kept_count(self) -> int:
        return len(self.kept)

    @property
    def dropped_count(self) -> int:
        return len(self.dropped)

    @property
    def refs(self) -> list[str]:
        """Every reference the verified text cites, in order of first appearance."""
        return find_refs(self.text)


def _ungrounded(sentence: str, sources: Iterable[str]) -> str | None:
    claims = ungrounded_claims(sentence, sources)
    if not claims:
        return None
    return "states what its sources do not: " + ", ".join(dict.fromkeys(claims))


def _check(
    sentence: str, allowed: set[str], facts: Mapping[str, Sequence[str]] | None = None
) -> str | None:
    """Why a sentence must go, or None when it may stay."""
    refs = find_refs(sentence)
    if not refs:
        return "no citation"
    unknown = [r for r in refs if r not in allowed]
    if unknown:
        return (
            "cites unknown reference"
            + ("s" if len(unknown) > 1 else "")
            + ": "
            + ", ".join(unknown)
        )
    if facts is not None:
        return _ungrounded(sentence, (t for r in refs for t in facts.get(r, ())))
    return None


class _Verifier:
    def __init__(
        self, allowed: Iterable[str], facts: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.allowed = {normalise_ref(r) for r in allowed}
        self.facts = (
            None
            if facts is None
            else {normalise_ref(ref): list(texts) for ref, texts in facts.items()}
        )
        self.out: list[str] = []
        self.kept: list[str] = []
        self.dropped: list[tuple[str, str]] = []
        self.paragraph: list[str] = []
        self.bullet: tuple[str, list[str]] | None = None  # (marker, lines)

    def _sentences(self, text: str) -> list[str]:
        survivors = []
        for sentence in split_sentences(text):
            why = _check(sentence, self.allowed, self.facts)
            if why is None:
                survivors.append(sentence)
                self.kept.append(sentence)
            else:
                self.dropped.append((sentence, why))
        return survivors

    def flush(self) -> None:
        if self.paragraph:
            survivors = self._sentences(" ".join(self.paragraph))
            if survivors:
                self.out.append(" ".join(survivors))
            self.paragraph = []
        if self.bullet is not None:
            marker, lines = self.bullet
            survivors = self._sentences(" ".join(lines))
            if survivors:
                self.out.append(marker + " ".join(survivors))
            self.bullet = None

    def line(self, line: str) -> None:
        if not line.strip():
            self.flush()
            self.out.append("")
        elif _HEADING.match(line) or _RULE.match(line):
            self.flush()
            refs = find_refs(line)
            unknown = [r for r in refs if r not in self.allowed]
            ungrounded = (
                _ungrounded(line, (t for texts in self.facts.values() for t in texts))
                if self.facts is not None
                else None
            )
            if unknown:
                self.dropped.append(
                    (line.strip(), "cites unknown reference: " + ", ".join(unknown))
                )
            elif ungrounded:
                self.dropped.append((line.strip(), ungrounded))
            else:
                self.out.append(line.rstrip())
        elif bullet := _BULLET.match(line):
            self.flush()
            self.bullet = (bullet.group(1), [bullet.group(2)])
        elif self.bullet is not None:  # continuation of the item (indented or lazy)
            self.bullet[1].append(line.strip())
        else:
            self.paragraph.append(line.strip())

    def result(self) -> Verified:
        self.flush()
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(self.out)).strip()
        return Verified(text=text, kept=self.kept, dropped=self.dropped)


def verify(
    text: str,
    *,
    allowed_refs: set[str],
    facts: Mapping[str, Sequence[str]] | None = None,
) -> Verified:
    """Drop every sentence that cites nothing, or cites a reference outside `allowed_refs`;
    with `facts` (texts per reference), also every sentence stating a date, number, dose or
    unit that the facts it cites do not state."""
    verifier = _Verifier(allowed_refs, facts)
    for line in text.splitlines():
        verifier.line(line)
    return verifier.result()


def check(draft: str, facts: Sequence[Fact]) -> Verified:
    """`draft` verified against `facts`: the references they carry, and what they state."""
    table = facts_by_ref(facts)
    return verify(draft, allowed_refs=set(table), facts=table)


# ----------------------------------------------------------------------- the guard


@dataclass
class Checked:
    body: str
    kept: int
    dropped: list[tuple[str, str]]
    restored: int  # required facts put back by the guard


def missing(text: str, facts: Sequence[Fact], required: Callable[[Fact], bool]) -> list[Fact]:
    """Required facts none of whose references the text cites."""
    cited_refs = set(find_refs(text))
    return [f for f in facts if required(f) and not cited_refs & set(f.refs)]


def check_with_guard(
    draft: str, facts: Sequence[Fact], *, required: Callable[[Fact], bool], heading: str
) -> Checked:
    """`check`, then the guard: required facts the verified text no longer cites (the model
    left them out, or their sentence was dropped) go back in under `heading`, at the top."""
    verified = check(draft, facts)
    left_out = missing(verified.text, facts, required)
    body = verified.text
    if left_out and verified.kept:
        guard = check(heading + "\n\n" + "\n".join(f"- {cited(f)}" for f in left_out), facts)
        body = guard.text + "\n\n" + body
    return Checked(
        body, verified.kept_count, verified.dropped, len(left_out) if verified.kept else 0
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


# ------------------------------------------------------------------ the judge hook


def ground_judgement(
    judgement: Judgement, *, protocol: ClinicalProtocol, article: Article
) -> Judgement:
    """A judge's answer with its reason verified: only sentences citing the article or the
    protocol stay, and a contradiction with no grounded reason left is no contradiction."""
    checked = verify(judgement.reason, allowed_refs={article.ref, protocol_ref(protocol)})
    reason = checked.text.strip()
    return Judgement(contradicts=judgement.contradicts and bool(checked.kept), reason=reason)
