"""Embedders: the bundled all-MiniLM-L6-v2 (real, loaded once) and the OpenAI-compatible one."""

from __future__ import annotations

import math

import pytest

from memory.embeddings import (
    LOCAL_MODEL_DIM,
    LOCAL_MODEL_NAME,
    EmbeddingConfig,
    LocalMiniLM,
    OpenAICompatibleEmbedder,
    make_embedder,
)
from tools.errors import ConfigError, InvalidInput

pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def minilm() -> LocalMiniLM:
    embedder = LocalMiniLM()
    embedder.embed(["warm up"])  # load the model once for the module
    return embedder


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_local_model_has_384_unit_dimensions(minilm: LocalMiniLM) -> None:
    vectors = minilm.embed(["Migraine twice this week.", "Magnesium glycinate for sleep."])
    assert minilm.name == LOCAL_MODEL_NAME
    assert minilm.dim == LOCAL_MODEL_DIM == 384
    assert len(vectors) == 2
    for vector in vectors:
        assert len(vector) == 384
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-4)


def test_similar_meanings_are_closer(minilm: LocalMiniLM) -> None:
    pain, tummy, wrist = minilm.embed(["abdominal pain", "tummy ache", "fractured wrist"])
    assert cosine(pain, tummy) > cosine(pain, wrist)


def test_batches_keep_order_and_match_single_calls(minilm: LocalMiniLM) -> None:
    texts = [f"note number {i} about sleep and stress" for i in range(70)]  # > one batch of 64
    batched = minilm.embed(texts)
    assert len(batched) == 70
    for i in (0, 63, 64, 69):
        [single] = minilm.embed([texts[i]])
        assert cosine(single, batched[i]) > 0.999


def test_empty_input_and_empty_texts(minilm: LocalMiniLM) -> None:
    assert minilm.embed([]) == []
    with pytest.raises(InvalidInput, match="empty"):
        minilm.embed(["fine", "   "])
    with pytest.raises(InvalidInput, match="sequence"):
        minilm.embed("one string")  # type: ignore[arg-type]


def test_openai_compatible_embedder_is_configured_without_network() -> None:
    embedder = make_embedder(
        EmbeddingConfig(
            provider="openai",
            model="nomic-embed-text",
            base_url="http://127.0.0.1:11434/v1",
            api_key="sk-test",
            dim=768,
        )
    )
    assert isinstance(embedder, OpenAICompatibleEmbedder)
    assert embedder.name == "openai:nomic-embed-text"
    assert embedder.dim == 768
    client = embedder.client()
    assert client.model == "nomic-embed-text"
    assert client.openai_api_base == "http://127.0.0.1:11434/v1"
    assert client.check_embedding_ctx_length is False


def test_make_embedder_local_and_bad_configs() -> None:
    assert isinstance(make_embedder(EmbeddingConfig()), LocalMiniLM)
    with pytest.raises(ConfigError, match="only"):
        make_embedder(EmbeddingConfig(provider="local", model="other-model"))
    with pytest.raises(ConfigError, match="provider"):
        make_embedder(EmbeddingConfig(provider="cohere"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="dimension"):
        OpenAICompatibleEmbedder("m", None, None, 0)
