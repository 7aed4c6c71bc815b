"""Settings: defaults, environment, .env, and one clear line for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import load_settings
from tools.errors import ConfigError


def test_defaults_put_sqlite_in_the_data_dir(_isolated_data_dir: Path) -> None:
    s = load_settings()
    assert s.data_dir == _isolated_data_dir
    assert s.db_url == f"sqlite:///{(_isolated_data_dir / 'steve.db').resolve()}"
    assert s.zone.key == "Europe/London"
    assert s.referral_overdue_days["sent"] == 7


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STEVE_TIMEZONE=America/New_York\n")
    monkeypatch.setenv("STEVE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("STEVE_REFERRAL_OVERDUE_DAYS", '{"sent": 3}')
    s = load_settings()
    assert s.timezone == "America/New_York"
    assert s.db_url.startswith("postgresql+psycopg://")
    assert s.referral_overdue_days["sent"] == 3 and s.referral_overdue_days["accepted"] == 14


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
