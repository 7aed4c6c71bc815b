"""Long-term memory as the settings describe it: one place for the CLI, the service and the API."""

from __future__ import annotations

from typing import Any

from app.settings import Settings
from tools.errors import ConfigError


def memory_configured(s: Settings) -> bool:
    """A Chroma server is set, or the embedded store exists (built by reindex or sync)."""
    return bool(s.chroma_url) or (s.data_dir / "chroma").is_dir()


def open_memory_store(s: Settings) -> Any:
    """The store: a Chroma server when STEVE_CHROMA_URL is set, else the data directory.

    Cheap to open: the embedding model loads on the first embedding only.
    """
    from memory.embeddings import EmbeddingConfig, make_embedder
    from memory.store import MemoryStore

    if s.embeddings_provider == "openai":
        if not s.embeddings_model or not s.embeddings_dim:
            raise ConfigError(
                "STEVE_EMBEDDINGS_PROVIDER=openai needs STEVE_EMBEDDINGS_MODEL and "
                "STEVE_EMBEDDINGS_DIM"
            )
        config = EmbeddingConfig(
            provider="openai",
            model=s.embeddings_model,
            base_url=s.embeddings_base_url,
            api_key=s.embeddings_api_key,
            dim=s.embeddings_dim,
        )
    else:
        config = EmbeddingConfig()
    embedder = make_embedder(config)
    if s.chroma_url:
        return MemoryStore.http(s.chroma_url, embedder, timeout_seconds=s.http_timeout_seconds)
    return MemoryStore.persistent(s.data_dir / "chroma", embedder)
