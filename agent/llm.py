"""The one model factory: langchain-openai's ChatOpenAI against any OpenAI-compatible endpoint.

No node or tool constructs a model itself. With no model configured, `make_chat_model`
returns None and every document comes from the deterministic composers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # LangChain loads with the first model made, not with the settings
    from langchain_core.language_models import BaseChatModel


@dataclass(frozen=True)
class ModelConfig:
    model: str | None = None  # e.g. "gpt-4o-mini", "llama3.1:8b"; None: no model
    base_url: str | None = None  # OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp server...
    api_key: str | None = None  # local servers take any non-empty key
    temperature: float = 0.1
    timeout_seconds: float = 60.0
    max_retries: int = 2


def make_chat_model(config: ModelConfig) -> BaseChatModel | None:
    """The configured chat model, or None when the practice runs without one."""
    if not config.model:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        api_key=config.api_key or "not-needed",  # type: ignore[arg-type]
        temperature=config.temperature,
        timeout=config.timeout_seconds,
        max_retries=config.max_retries,
    )
