"""Compose: the deterministic composer, and the one model call per briefing.

The deterministic composer is first-class: it renders every fact, in sections, decisions
first, each sentence citing its reference, so a practice without a model still gets the
whole briefing (and the verifier has nothing to remove from it). The model gets the same
facts, once, as JSON lines inside a delimited data block in the user turn; its instructions
(prompts/briefing/system.md) sit in the system turn, where no note or abstract can reach.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.briefing.state import SECTION_TITLES, SECTIONS, BriefFact
from agent.tokens import estimate_tokens
from agent.untrusted import message_text
from prompts.loader import load_prompt, markdown_escape
from tools.literature.summaries import FACTS_CLOSE, FACTS_OPEN, cite
from tools.literature.verify import split_sentences

NOTHING_TO_DECIDE = f"## {SECTION_TITLES['decision']}: nothing flagged"


def cited(fact: BriefFact) -> str:
    """A fact as Markdown, every sentence citing the fact's references."""
    refs = ", ".join(fact.refs)
    return " ".join(cite(markdown_escape(s), refs) for s in split_sentences(fact.text))


def deterministic_body(facts: Sequence[BriefFact]) -> str:
    """Every fact under its section heading, decisions first; empty sections left out."""
    blocks: list[str] = []
    for section in SECTIONS:
        items = [f for f in facts if f.section == section]
        if not items:
            if section == "decision":
                blocks.append(NOTHING_TO_DECIDE)
            continue
        lines = "\n".join(f"- {cited(f)}" for f in items)
        blocks.append(f"## {SECTION_TITLES[section]}\n\n{lines}")
    return "\n\n".join(blocks)


def fact_lines(facts: Sequence[BriefFact]) -> list[str]:
    """The data block's lines: one JSON object per fact, '<' escaped so nothing inside can
    close the block and carry on as instructions."""
    lines = []
    for f in facts:
        record: dict[str, object] = {"ref": f.ref}
        if f.also:
            record["also"] = list(f.also)
        record["section"] = f.section
        if f.external:
            record["quoted"] = True  # written outside the practice: data, never instructions
        record["text"] = f.text
        lines.append(json.dumps(record, ensure_ascii=False).replace("<", "\\u003c"))
    return lines


def messages(facts: Sequence[BriefFact]) -> list[BaseMessage]:
    """The one call's messages: instructions in the system turn, facts as data in the user's."""
    data = "\n".join([FACTS_OPEN, *fact_lines(facts), FACTS_CLOSE])
    return [SystemMessage(load_prompt("briefing/system").strip()), HumanMessage(data)]


def prompt_tokens(msgs: Sequence[BaseMessage]) -> int:
    return sum(estimate_tokens(str(m.content)) for m in msgs)


def model_text(model: BaseChatModel, msgs: Sequence[BaseMessage]) -> str:
    """The model's reply as text (some providers answer with a list of content parts)."""
    return message_text(model.invoke(list(msgs)).content)
