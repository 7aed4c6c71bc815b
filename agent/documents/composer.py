"""The model-backed composer: one call per document, instructions and facts in separate roles.

It implements `tools.literature.summaries.SummaryComposer` (and any composer with the same
shape). The facts go in the user turn as a delimited data block; the instructions go in the
system turn, so text from abstracts never sits where instructions are read.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.llm import ModelConfig, make_chat_model
from agent.untrusted import message_text
from tools.literature.summaries import FACTS_OPEN, Fact


class ModelComposer:
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
        return message_text(self.model.invoke(self.messages(prompt)).content)


def composer_for(config: ModelConfig | None) -> ModelComposer | None:
    """The model-backed composer when a model is configured, else None (deterministic)."""
    model = make_chat_model(config) if config is not None else None
    return ModelComposer(model) if model is not None else None
