"""`steve` starts light: what a command imports, not how long it takes (that depends on the
machine; the README has the figures). The help is the one the eagerly built CLI printed."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import COMMANDS, cli, load
from tests.support.paths import GOLDEN

# Libraries only model, memory, service and web paths need.
HEAVY = (
    "langchain",
    "langchain_core",
    "langchain_openai",
    "langgraph",
    "langsmith",
    "openai",
    "chromadb",
    "torch",
    "fastapi",
    "starlette",
    "uvicorn",
    "argon2",
    "apscheduler",
    # The EHR sync's FHIR client and SMART signing: loaded by `steve sync fhir` only.
    "fhirpy",
    "aiohttp",
    "jwt",
    "cryptography",
)

# Runs `steve ARGS` in this interpreter and writes the modules it imported to a file.
_RUN_AND_LIST = """
import atexit, json, sys
out, args = sys.argv[1], sys.argv[2:]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from app.cli.main import main
sys.argv = ["steve", *args]
main()
"""


def _steve_imports(tmp_path: Path, *args: str) -> set[str]:
    listing = tmp_path / "modules.json"
    ran = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST, str(listing), *args],
        cwd=tmp_path,  # as the per-test data directory's tests run: no developer's .env
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    return set(json.loads(listing.read_text()))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_importing_the_cli_loads_no_heavy_library(tmp_path: Path) -> None:
    code = "import app.cli.main, json, sys; print(json.dumps(sorted(sys.modules)))"
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(found.stdout))
    assert _heavy(modules) == []
    # Nor any command: each is imported when it runs.
    assert sorted(m for m in modules if m.startswith("app.cli.")) == [
        "app.cli.console",
        "app.cli.main",
    ]


def test_help_loads_no_heavy_library(tmp_path: Path) -> None:
    modules = _steve_imports(tmp_path, "--help")
    assert _heavy(modules) == []
    assert not any(m.startswith(("sqlalchemy", "sqlmodel", "db.", "tools.")) for m in modules)


@pytest.mark.parametrize(
    ("command", "module"),
    [
        (("tasks", "list"), "app.cli.tasks"),
        (("overview",), "app.cli.overview"),
        (("jobs", "list"), "app.cli.jobs"),
        (("sync", "status"), "app.cli.sync"),
    ],
)
def test_a_database_command_loads_no_heavy_library_nor_alembic(
    command: tuple[str, ...],
    module: str,
    tmp_path: Path,
    sqlite_template: Path,
    _isolated_data_dir: Path,
) -> None:
    _isolated_data_dir.mkdir(parents=True)
    shutil.copy(sqlite_template, _isolated_data_dir / "steve.db")
    modules = _steve_imports(tmp_path, *command, "--json")
    assert module in modules  # it ran
    heavy = _heavy(modules)
    # The settings check the literature cron with APScheduler's parser (app/settings.py),
    # and the jobs are APScheduler triggers.
    assert [m for m in heavy if not m.startswith("apscheduler")] == []
    assert not any(m.split(".")[0] == "alembic" for m in modules)


def test_help_is_the_one_the_eager_cli_printed() -> None:
    """tests/golden/steve_help.txt was printed by the CLI that imported every command."""
    result = CliRunner().invoke(cli, ["--help"], prog_name="steve", env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert result.stdout == (GOLDEN / "steve_help.txt").read_text()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_words_each_command_as_its_module_does(name: str) -> None:
    command = load(name)
    assert command.name == name
    first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0].strip()
    assert COMMANDS[name].summary == first_paragraph


def test_an_unknown_command_still_gets_a_suggestion() -> None:
    result = CliRunner().invoke(cli, ["taks"], prog_name="steve")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: No such command 'taks'. Did you mean 'tasks'? (see `steve --help`)\n"
    )
