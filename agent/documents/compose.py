"""Compose: a document's text from its facts, deterministically or with one model call.

The deterministic composer is first-class: every fact as cited Markdown, so a practice
without a model still gets the whole document (and the checker has nothing to remove). The
model gets the same facts as JSON lines inside a delimited data block in the user turn; its
instructions sit in the system turn, where no note or abstract can reach.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.documents.facts import FACTS_OPEN, Fact, facts_block
from agent.documents.tokens import estimate_tokens
from agent.llm import ModelConfig, make_chat_model
from agent.untrusted import message_text
from prompts.loader import markdown_escape
from tools.citations import cite, split_sentences

# ------------------------------------------------------------------ deterministic


def cited(fact: Fact) -> str:
    """A fact as Markdown, every sentence citing the fact's references."""
    refs = ", ".join(fact.refs)
    return " ".join(cite(markdown_escape(s), refs) for s in split_sentences(fact.text))


def sectioned_body(
    facts: Sequence[Fact], *, titles: Mapping[str, str], when_empty: Mapping[str, str]
) -> str:
    """Every fact under its section's heading, in the order of `titles`; an empty section is
    left out, or stands as its `when_empty` line."""
    blocks: list[str] = []
    for section, title in titles.items():
        items = [f for f in facts if f.section == section]
        if not items:
            if section in when_empty:
                blocks.append(when_empty[section])
            continue
        lines = "\n".join(f"- {cited(f)}" for f in items)
        blocks.append(f"## {title}\n\n{lines}")
    return "\n\n".join(blocks)


# -------------------------------------------------------------------------- model


def messages(instructions: str, facts: Sequence[Fact]) -> list[BaseMessage]:
    """The one call's messages: instructions in the system turn, facts as data in the user's."""
    return [SystemMessage(instructions.strip()), HumanMessage(facts_block(facts))]


def prompt_with_facts(instructions: str, facts: Sequence[Fact]) -> str:
    """Instructions and facts as one text (what a `SummaryComposer` is given)."""
    return instructions.rstrip() + "\n" + facts_block(facts)


def prompt_tokens(msgs: Sequence[BaseMessage]) -> int:
    return sum(estimate_tokens(str(m.content)) for m in msgs)


def model_text(model: BaseChatModel, msgs: Sequence[BaseMessage]) -> str:
    """The model's reply as text (some providers answer with a list of content parts)."""
    return message_text(model.invoke(list(msgs)).content)


class ModelComposer:
    """One model call per document (implements agent.evidence.summaries.SummaryComposer)."""

    def __init__(self, model: BaseChatModel) -> None:
        self.model = model

    def messages(self, prompt: str) -> list[BaseMessage]:
        # The data block is the last line that is exactly the opening marker (the
        # instructions mention the marker, and facts cannot contain it: '<' is escaped).
        instructions, marker, data = prompt.rpartition("\n" + FACTS_OPEN + "\n")
        if not marker:
            return [HumanMessage(prompt)]
        return [SystemMessage(instructions.strip()), HumanMessage(marker.lstrip("\n") + data)]

    def compose(self, *, prompt: str, facts: list[Fact]) -> str:
        return model_text(self.model, self.messages(prompt))


def composer_for(config: ModelConfig | None) -> ModelComposer | None:
    """The model-backed composer when a model is configured, else None (deterministic)."""
    model = make_chat_model(config) if config is not None else None
    return ModelComposer(model) if model is not None else None
