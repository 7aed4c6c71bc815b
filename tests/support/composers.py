"""A scripted document composer for tests (agent.evidence.summaries.SummaryComposer)."""

from __future__ import annotations

from agent.documents.facts import Fact


class ScriptedComposer:
    """A fake model: returns queued replies and records what it was asked."""

    def __init__(self, *replies: str | Exception) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[str, list[Fact]]] = []

    def compose(self, *, prompt: str, facts: list[Fact]) -> str:
        self.calls.append((prompt, facts))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply
