"""`steve chat` end to end: one message, approvals answered in later invocations, stdin."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

import app.cli.chat as chat_cli
from db.engine import migrate
from db.models import Appointment, AppointmentStatus, CareMessage
from tests.support.chat import build_practice
from tests.support.cli import practice_engine, run
from tests.support.fake_models import ToolCallingChatModel, call


@pytest.fixture
def practice(monkeypatch: pytest.MonkeyPatch) -> Any:
    assert run("init").exit_code == 0
    eng = practice_engine()
    migrate(eng)
    with Session(eng) as session:
        p = build_practice(session)
    eng.dispose()
    return p


def _model(monkeypatch: pytest.MonkeyPatch, replies: list[Any]) -> ToolCallingChatModel:
    model = ToolCallingChatModel.scripted(replies)
    monkeypatch.setattr(chat_cli, "chat_model", lambda: model)
    return model


def _status(appointment_id: int) -> str:
    eng = practice_engine()
    with Session(eng) as session:
        appt = session.get(Appointment, appointment_id)
        assert appt is not None
        status = str(appt.status)
    eng.dispose()
    return status


def test_no_model_gets_a_clear_message_not_a_crash(practice: Any) -> None:
    result = run("chat", "--as", str(practice.physician), "--message", "hello")
    assert result.exit_code == 0, result.stderr
    assert "STEVE_LLM_MODEL" in result.stdout


def test_approval_across_separate_invocations(practice: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _model(
        monkeypatch, [call("cancel_appointment", appointment_id=practice.appointment), "Cancelled."]
    )
    first = run("chat", "--as", "Quinn", "--thread", "t-cli", "--message", "Cancel Ada tomorrow")
    assert first.exit_code == 0, first.stderr
    assert "Cancel appointment" in first.stdout and "Waiting for approval" in first.stdout
    assert _status(practice.appointment) == "booked"
    # A later process answers the approval from the thread saved on disk.
    second = run("chat", "--as", "Quinn", "--thread", "t-cli", "--approve")
    assert second.exit_code == 0, second.stderr
    assert "Cancelled." in second.stdout
    assert _status(practice.appointment) == AppointmentStatus.CANCELLED.value


def test_a_rejected_action_is_reported_as_rejected_not_done(practice: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 11 item 12: `--reject` printed `tool cancel_appointment: done`."""
    _model(
        monkeypatch,
        [
            call("cancel_appointment", appointment_id=practice.appointment),
            "Left as it was.",
            call("cancel_appointment", appointment_id=practice.appointment),
            "Cancelled.",
        ],
    )
    run("chat", "--as", "Quinn", "--thread", "t-rej", "--message", "Cancel Ada tomorrow")
    rejected = run("chat", "--as", "Quinn", "--thread", "t-rej", "--reject")
    assert rejected.exit_code == 0, rejected.stderr
    assert "tool cancel_appointment: rejected by you, nothing was done" in rejected.stderr
    assert "cancel_appointment: done" not in rejected.stderr
    assert _status(practice.appointment) == "booked"
    run("chat", "--as", "Quinn", "--thread", "t-rej", "--message", "Cancel it after all")
    approved = run("chat", "--as", "Quinn", "--thread", "t-rej", "--approve")
    assert "tool cancel_appointment: done" in approved.stderr
    assert _status(practice.appointment) == AppointmentStatus.CANCELLED.value


def test_reject_and_edit_from_the_command_line(practice: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _model(
        monkeypatch,
        [
            call(
                "send_care_message",
                recipient_id=practice.acupuncturist,
                subject="Ada",
                body="first draft",
            ),
            "Not sent.",
        ],
    )
    run("chat", "--as", str(practice.physician), "--thread", "t2", "--message", "Tell Lee")
    edited = run(
        "chat",
        "--as",
        str(practice.physician),
        "--thread",
        "t2",
        "--edit",
        '{"body": "second draft"}',
    )
    assert "Body: second draft" in edited.stdout and "Waiting for approval" in edited.stdout
    rejected = run("chat", "--as", str(practice.physician), "--thread", "t2", "--reject")
    assert "Not sent." in rejected.stdout
    eng = practice_engine()
    with Session(eng) as session:
        assert session.exec(select(CareMessage)).all() == []
    eng.dispose()


def test_interactive_chat_reads_stdin_and_asks_at_the_prompt(practice: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _model(
        monkeypatch,
        [call("cancel_appointment", appointment_id=practice.appointment), "Cancelled it."],
    )
    from typer.testing import CliRunner

    from app.cli.main import cli

    result = CliRunner().invoke(
        cli, ["chat", "--as", str(practice.physician)], input="Cancel Ada\ny\n/quit\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "Approve? [y]es / [e]dit / [n]o" in result.stdout
    assert "Cancelled it." in result.stdout
    assert _status(practice.appointment) == "cancelled"


def test_bad_usage_is_one_clear_line(practice: Any) -> None:
    result = run("chat", "--as", str(practice.physician), "--approve")
    assert result.exit_code == 1 and "give --thread" in result.stderr
    external = run("chat", "--as", str(practice.external), "--message", "hi")
    assert external.exit_code == 1 and "external and has no access" in external.stderr
    nobody = run("chat", "--as", "Nobody Atall", "--message", "hi")
    assert nobody.exit_code == 1


def test_chat_searches_memory_caught_up_with_a_note_written_moments_ago(
    practice: Any,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from tools.notes import add_note

    eng = practice_engine()
    with Session(eng) as session:
        note = add_note(
            session=session,
            patient_id=practice.patient,
            practitioner_id=practice.physician,
            body="Started magnesium glycinate 200 mg at night for leg cramps.",
        )
        session.commit()
        note_id = note.id
    eng.dispose()
    model = _model(
        monkeypatch,
        [
            call("search_patient_notes", patient_id=practice.patient, query="night cramps"),
            "Magnesium was started for cramps [note].",
        ],
    )
    # --memory: the embedded store is created on first use; nothing was synced by hand.
    result = run("chat", "--as", str(practice.physician), "--memory", "--message", "cramps?")
    assert result.exit_code == 0, result.stderr
    tool_reply = str(model.calls[-1][-1].content)
    assert f"note:{note_id}" in tool_reply and "magnesium glycinate" in tool_reply
    without = _model(
        monkeypatch,
        [call("search_patient_notes", patient_id=practice.patient, query="cramps"), "No."],
    )
    run("chat", "--as", str(practice.physician), "--no-memory", "--message", "cramps?")
    assert "no tool named 'search_patient_notes'" in str(without.calls[-1][-1].content)
