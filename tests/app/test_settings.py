"""Settings: defaults, environment, .env, and one clear line for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import DELIMITER, FLAT_FIELDS, PREFIX, Settings, load_settings
from tools.errors import ConfigError


def test_defaults_put_sqlite_in_the_data_dir(_isolated_data_dir: Path) -> None:
    s = load_settings()
    assert s.data_dir == _isolated_data_dir
    assert s.db_url == f"sqlite:///{(_isolated_data_dir / 'steve.db').resolve()}"
    assert s.zone.key == "Europe/London"
    assert s.limits.referral_overdue_days["sent"] == 7


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STEVE_TIMEZONE=America/New_York\n")
    monkeypatch.setenv("STEVE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("STEVE_REFERRAL_OVERDUE_DAYS", '{"sent": 3}')
    s = load_settings()
    assert s.practice.timezone == "America/New_York"
    assert s.db_url.startswith("postgresql+psycopg://")
    limits = s.limits.referral_overdue_days
    assert limits["sent"] == 3 and limits["accepted"] == 14


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("STEVE_TIMEZONE", "Mars/Olympus", "STEVE_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("STEVE_DATABASE_URL", "::nonsense::", "STEVE_DATABASE_URL: database URL is malformed"),
        ("STEVE_DATABASE_URL", "mongodb://x/y", "not supported"),
        ("STEVE_REFERRAL_OVERDUE_DAYS", '{"lost": 3}', "unknown referral states ['lost']"),
        ("STEVE_REFERRAL_OVERDUE_DAYS", "{not json", "STEVE_REFERRAL_OVERDUE_DAYS"),
        ("STEVE_SLOT_STEP_MINUTES", "1", "STEVE_SLOT_STEP_MINUTES"),
    ],
)
def test_bad_settings_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_sections_read_nested_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEVE_PRACTICE__TIMEZONE", "America/New_York")
    monkeypatch.setenv("STEVE_LIMITS__REFERRAL_OVERDUE_DAYS", '{"sent": 4}')
    monkeypatch.setenv("STEVE_EMAIL__SMTP_HOST", "mail.practice.test")
    monkeypatch.setenv("STEVE_API__PORT", "8123")
    s = load_settings()
    assert s.zone.key == "America/New_York"
    assert s.limits.referral_overdue_days["sent"] == 4
    assert s.email.smtp is not None and s.email.smtp.host == "mail.practice.test"
    assert s.api.port == 8123


def test_the_nested_name_wins_over_the_flat_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEVE_TIMEZONE", "Asia/Tokyo")
    monkeypatch.setenv("STEVE_PRACTICE__TIMEZONE", "America/New_York")
    assert load_settings().practice.timezone == "America/New_York"


def test_flat_names_in_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text('STEVE_SMTP_PORT=2525\nSTEVE_FEED_URLS=["https://j.test/rss"]\n')
    s = load_settings()
    assert s.email.smtp_port == 2525 and s.literature.feed_urls == ["https://j.test/rss"]


# One value per flat name, valid for its field (text is read as the environment's would be).
_SAMPLES = {"referral_overdue_days": '{"sent": 5}', "feed_urls": '["https://j.test/rss"]'}
_SAMPLES |= {"briefing_send_times": '{"3": "06:30"}', "database_url": "sqlite:///x.db"}
_SAMPLES |= {"timezone": "Asia/Tokyo", "digest_weekday": "tue", "smtp_security": "tls"}
_SAMPLES |= {"embeddings_provider": "openai", "literature_refresh_cron": "0 6 * * *"}
_SAMPLES |= {"embeddings_dim": "384", "smtp_password": "s3cret"}
_SAMPLES |= {"briefing_send_time": "06:15", "digest_time": "08:45", "cookie_secure": "true"}


@pytest.mark.parametrize("flat", sorted(FLAT_FIELDS))
def test_every_flat_name_still_sets_its_field(monkeypatch: pytest.MonkeyPatch, flat: str) -> None:
    """Every STEVE_<NAME> of the flat settings sets the section field FLAT_FIELDS names,
    and STEVE_<SECTION>__<FIELD> sets the same one."""
    section, field = FLAT_FIELDS[flat]
    default = getattr(getattr(Settings(), section), field)
    text = _SAMPLES.get(flat) or _other_than(default)
    monkeypatch.setenv(f"{PREFIX}{flat.upper()}", text)
    from_flat = getattr(getattr(load_settings(), section), field)
    assert from_flat != default
    monkeypatch.delenv(f"{PREFIX}{flat.upper()}")
    monkeypatch.setenv(f"{PREFIX}{section.upper()}{DELIMITER}{field.upper()}", text)
    assert getattr(getattr(load_settings(), section), field) == from_flat


def _other_than(default: object) -> str:
    if isinstance(default, bool):
        return str(not default).lower()
    if isinstance(default, int | float):
        return str(int(default) + 1)
    return "http://127.0.0.1:9/x" if default is None else f"{default}-x"


def test_flat_keyword_arguments_fill_sections() -> None:
    s = Settings(timezone="UTC", smtp_host="mail.test", briefing_lookback_days=14)
    assert (s.practice.timezone, s.email.smtp_host, s.limits.briefing_lookback_days) == (
        "UTC",
        "mail.test",
        14,
    )


def test_hl7_listener_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.hl7.mllp_enabled, s.hl7.mllp_host, s.hl7.mllp_port) == (False, "127.0.0.1", 2575)
    monkeypatch.setenv("STEVE_HL7__MLLP_ENABLED", "true")
    monkeypatch.setenv("STEVE_HL7__MLLP_PORT", "2600")
    s = load_settings()
    assert s.hl7.mllp_enabled and s.hl7.mllp_port == 2600
    monkeypatch.setenv("STEVE_HL7__MLLP_PORT", "70000")
    with pytest.raises(ConfigError, match=r"^setting STEVE_HL7__MLLP_PORT: .*65535"):
        load_settings()
    monkeypatch.setenv("STEVE_HL7__MLLP_PORT", "2600")
    monkeypatch.setenv("STEVE_HL7__MLLP_HOST", " ")
    with pytest.raises(ConfigError, match=r"^setting STEVE_HL7__MLLP_HOST: the MLLP listener"):
        load_settings()
