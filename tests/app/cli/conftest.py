"""Fixtures of the CLI tests: a demo practice built once per session and copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run


@pytest.fixture(scope="session")
def _built_demos(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Path]:
    return {}


@pytest.fixture
def demo_copy(
    _built_demos: dict[tuple[str, ...], Path],
    _isolated_data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Any]:
    """`demo_copy(*args)`: this test's data directory holds what `steve demo *args` makes.

    The first test asking for a set of arguments runs the command (its result is returned to
    it; later tests get None); every test gets its own copy, so writes stay in the test."""

    def copy(*args: str) -> Any:
        result = None
        if args not in _built_demos:
            built = tmp_path_factory.mktemp("demo") / "steve-data"
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("STEVE_DATA_DIR", str(built))
                result = run("demo", *args)
            assert result.exit_code == 0, result.stderr
            _built_demos[args] = built
        shutil.copytree(_built_demos[args], _isolated_data_dir, dirs_exist_ok=True)
        return result

    return copy
