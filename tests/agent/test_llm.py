"""The model factory: no model unless configured; any OpenAI-compatible endpoint when it is."""

from __future__ import annotations

import pytest

from agent.llm import ModelConfig, make_chat_model
from app.settings import load_settings
from app.wiring import model_config


def test_no_model_by_default() -> None:
    assert make_chat_model(model_config(load_settings())) is None


def test_settings_configure_an_openai_compatible_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEVE_LLM_MODEL", "llama3.1:8b")
    monkeypatch.setenv("STEVE_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("STEVE_LLM_TIMEOUT_SECONDS", "12")
    model = make_chat_model(model_config(load_settings()))
    assert model is not None
    assert model.model_name == "llama3.1:8b"  # type: ignore[attr-defined]
    assert model.openai_api_base == "http://127.0.0.1:11434/v1"  # type: ignore[attr-defined]
    assert model.request_timeout == 12.0  # type: ignore[attr-defined]


def test_local_servers_need_no_key() -> None:
    model = make_chat_model(ModelConfig(model="qwen2.5", base_url="http://127.0.0.1:8080/v1"))
    assert model is not None
    assert model.openai_api_key.get_secret_value() == "not-needed"  # type: ignore[attr-defined]
