"""The prompt-token counter (an estimate unless tiktoken's encoding is already on disk)."""

from __future__ import annotations

from agent.documents.tokens import counter_name, estimate_tokens


def test_estimate_is_in_the_range_of_cl100k_for_prose_and_json() -> None:
    prose = "The patient reports better sleep and fewer flares since the last visit. " * 10
    # cl100k_base gives about 13 tokens per repetition of this sentence.
    assert 120 <= estimate_tokens(prose) <= 200
    line = '{"ref": "result:412", "section": "decision", "text": "Ferritin 12 ug/L, 2026-11-10"}'
    assert 25 <= estimate_tokens(line) <= 50
    assert estimate_tokens("") == 0


def test_the_counter_says_which_it_is() -> None:
    assert counter_name() in ("tiktoken cl100k_base", "estimate (cl100k-shaped)")
