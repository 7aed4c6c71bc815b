"""Running `steve` in-process against the per-test data directory."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from app.cli.main import cli
from app.settings import get_settings
from db.engine import make_engine


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    get_settings.cache_clear()  # settings are read per command, as in a real process
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def run_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def practice_engine():
    get_settings.cache_clear()
    return make_engine(get_settings().db_url)
