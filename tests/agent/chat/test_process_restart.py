"""An approval survives a real process restart, and the approved write runs exactly once.

Each step is a separate `steve chat` process; the model is langchain-openai's ChatOpenAI
talking to a scripted OpenAI-compatible endpoint on loopback (tests/support/openai_fake.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from db.models import Appointment, ToolCallAudit, ToolExecution
from tests.support import paths
from tests.support.chat import build_practice
from tests.support.cli import practice_engine, run
from tests.support.clock_shift import child_pythonpath
from tests.support.openai_fake import running_fake_openai, text, tool_call

pytestmark = pytest.mark.process

ROOT = paths.ROOT


def steve_chat(fake_url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(extra)
    env.update(
        STEVE_LLM_MODEL="fake-model",
        STEVE_LLM_BASE_URL=fake_url,
        STEVE_LLM_API_KEY="test-key",
        STEVE_LLM_MAX_RETRIES="0",
        PYTHONPATH=child_pythonpath(),
    )
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "chat", "--no-memory", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def practice(_isolated_data_dir: Path) -> Any:
    assert run("init", "--no-admin").exit_code == 0
    eng = practice_engine()
    with Session(eng) as session:
        p = build_practice(session)
        session.commit()
    eng.dispose()
    return p


def test_an_approval_answered_by_a_new_process_runs_once(practice: Any) -> None:
    replies = [
        tool_call("cancel_appointment", appointment_id=practice.appointment),
        text("The appointment is cancelled."),
    ]
    with running_fake_openai(replies) as fake:
        first = steve_chat(
            fake.base_url,
            "--as",
            "Quinn",
            "--thread",
            "t1",
            "--message",
            "Cancel Ada's appointment",
        )
        assert first.returncode == 0, first.stderr
        assert "Waiting for approval" in first.stdout
        assert len(fake.requests) == 1 and fake.requests[0]["tools"]  # the toolbox went out

        second = steve_chat(fake.base_url, "--as", "Quinn", "--thread", "t1", "--approve")
        assert second.returncode == 0, second.stderr
        assert "cancelled" in second.stdout.lower()
        # The model saw the tool's result as delimited data in the new process.
        last = fake.requests[-1]["messages"][-1]
        assert last["role"] == "tool" and "<data>" in last["content"]

        third = steve_chat(fake.base_url, "--as", "Quinn", "--thread", "t1", "--approve")
        assert (
            third.returncode != 0 or "nothing is waiting" in (third.stdout + third.stderr).lower()
        )

    eng = practice_engine()
    with Session(eng) as session:
        appt = session.get(Appointment, practice.appointment)
        assert appt is not None and str(appt.status) == "cancelled"
        runs = session.exec(select(ToolExecution)).all()
        assert len(runs) == 1  # one approved write, executed once
    eng.dispose()


def test_a_process_killed_after_the_write_committed_does_not_repeat_it(practice: Any) -> None:
    """SIGKILL after the approved write commits but before LangGraph saves its checkpoint:
    the next process finishes the turn, replays the stored result and writes nothing twice."""
    replies = [
        tool_call("cancel_appointment", appointment_id=practice.appointment),
        text("The appointment is cancelled."),
    ]
    with running_fake_openai(replies) as fake:
        first = steve_chat(
            fake.base_url,
            "--as",
            "Quinn",
            "--thread",
            "t2",
            "--message",
            "Cancel Ada's appointment",
        )
        assert "Waiting for approval" in first.stdout, first.stderr
        killed = steve_chat(
            fake.base_url,
            "--as",
            "Quinn",
            "--thread",
            "t2",
            "--approve",
            STEVE_FAULT_POINT="after_tool_commit",
        )
        assert killed.returncode == -9  # SIGKILL, mid-turn
        assert len(fake.requests) == 1  # died before the model saw the result

        after = steve_chat(
            fake.base_url, "--as", "Quinn", "--thread", "t2", "--message", "Is it done?"
        )
        assert after.returncode == 0, after.stderr
        assert "cancelled" in after.stdout.lower()

    eng = practice_engine()
    with Session(eng) as session:
        appt = session.get(Appointment, practice.appointment)
        assert appt is not None and str(appt.status) == "cancelled"
        assert len(session.exec(select(ToolExecution)).all()) == 1
        outcomes = [
            a.outcome
            for a in session.exec(select(ToolCallAudit).order_by(col(ToolCallAudit.id))).all()
            if a.tool == "cancel_appointment"
        ]
        assert outcomes == ["done", "replayed"]
    eng.dispose()
