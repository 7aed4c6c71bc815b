"""The settings' `ehr` section: defaults, and every bad value as one line naming its variable."""

from __future__ import annotations

import pytest

from app.settings import load_settings
from tools.errors import ConfigError
from tools.interop.fhir.sync.config import RESOURCE_TYPES, EhrSettings


def test_defaults_are_off_and_pull_every_type() -> None:
    ehr = load_settings().ehr
    assert not ehr.enabled and ehr.base_url is None and ehr.auth == "none"
    assert ehr.resource_types == list(RESOURCE_TYPES) and ehr.page_size == 100
    assert ehr.system == ""


def test_nested_names_set_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEVE_EHR__BASE_URL", "https://ehr.test/fhir/")
    monkeypatch.setenv("STEVE_EHR__AUTH", "bearer")
    monkeypatch.setenv("STEVE_EHR__TOKEN", "s3cret")
    monkeypatch.setenv("STEVE_EHR__RESOURCE_TYPES", '["Patient", "Observation"]')
    monkeypatch.setenv("STEVE_EHR__PAGE_SIZE", "50")
    ehr = load_settings().ehr
    assert ehr.base_url == "https://ehr.test/fhir" and ehr.system == "https://ehr.test/fhir"
    assert ehr.token is not None and ehr.token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(ehr)
    assert ehr.resource_types == ["Patient", "Observation"] and ehr.page_size == 50


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"STEVE_EHR__ENABLED": "true"},
            "STEVE_EHR__BASE_URL: required when the EHR sync is enabled",
        ),
        (
            {"STEVE_EHR__BASE_URL": "ehr.test/fhir"},
            "STEVE_EHR__BASE_URL: 'ehr.test/fhir' is not an http(s) URL",
        ),
        (
            {"STEVE_EHR__AUTH": "basic"},
            "STEVE_EHR__AUTH: unknown auth 'basic'; use none, bearer or smart",
        ),
        ({"STEVE_EHR__AUTH": "bearer"}, "STEVE_EHR__TOKEN: required when auth is bearer"),
        (
            {"STEVE_EHR__AUTH": "smart", "STEVE_EHR__PRIVATE_KEY_PATH": "/k.pem"},
            "STEVE_EHR__CLIENT_ID: required when auth is smart",
        ),
        (
            {
                "STEVE_EHR__AUTH": "smart",
                "STEVE_EHR__CLIENT_ID": "steve",
                "STEVE_EHR__PRIVATE_KEY_PATH": "/k.pem",
            },
            "STEVE_EHR__TOKEN_URL: required when auth is smart",
        ),
        (
            {"STEVE_EHR__ALGORITHM": "HS256"},
            "STEVE_EHR__ALGORITHM: unknown algorithm 'HS256'; use RS384 or ES384",
        ),
        (
            {"STEVE_EHR__PAGE_SIZE": "0"},
            "STEVE_EHR__PAGE_SIZE: Input should be greater than or equal to 1",
        ),
        (
            {"STEVE_EHR__RESOURCE_TYPES": '["Task"]'},
            "STEVE_EHR__RESOURCE_TYPES: unknown resource type 'Task'",
        ),
        ({"STEVE_EHR__RESOURCE_TYPES": "Patient"}, "STEVE_EHR"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"setting {message}")
    assert "\n" not in str(caught.value)


def test_the_source_system_names_provenance() -> None:
    ehr = EhrSettings(base_url="https://ehr.test/fhir", source_system="Acme EHR")
    assert ehr.system == "Acme EHR"
