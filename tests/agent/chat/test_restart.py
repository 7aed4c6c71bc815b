"""Chat threads survive restarts: approvals wait in the checkpointer; approved writes run once.

"Restart" here is a new checkpointer instance and a new compiled graph over the same SQLite
file (or PostgreSQL database): everything the first process held in memory is gone. The CLI
tests add separate `steve chat` invocations on top.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

import agent.chat.graph as chat_graph
from agent.chat.checkpoint import SCHEMA, is_postgres, open_checkpointer
from db.models import CareMessage, ToolExecution
from tests.support.chat import build_practice, chat, tool_audit
from tests.support.fake_models import ToolCallingChatModel, call


class PowerCut(Exception):
    """The process dies: raised right after a tool call committed, before the node returns."""


@pytest.fixture
def practice(engine: Engine):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return build_practice(session)


def _message_call(practice) -> object:  # type: ignore[no-untyped-def]
    return call(
        "send_care_message",
        recipient_id=practice.acupuncturist,
        subject="Ada",
        body="Please add moxibustion",
        patient_id=practice.patient,
    )


def _messages(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(CareMessage)).all())


def test_checkpointer_follows_the_backend(db_url: str, tmp_path: Path) -> None:
    with open_checkpointer(db_url=db_url, sqlite_path=tmp_path / "chat.sqlite") as saver:
        assert type(saver).__name__ == ("PostgresSaver" if is_postgres(db_url) else "SqliteSaver")
    assert (tmp_path / "chat.sqlite").exists() != is_postgres(db_url)
    if is_postgres(db_url):
        from sqlalchemy import inspect

        from db.engine import make_engine

        eng = make_engine(db_url)
        try:
            # The saver's tables stay out of the schema Alembic manages.
            assert "checkpoints" in inspect(eng).get_table_names(schema=SCHEMA)
            assert "checkpoints" not in inspect(eng).get_table_names()
        finally:
            eng.dispose()


def test_an_approval_survives_a_restart(engine, db_url, practice, tmp_path) -> None:
    path = tmp_path / "chat.sqlite"
    model = ToolCallingChatModel.scripted([_message_call(practice), "Sent."])
    with open_checkpointer(db_url=db_url, sqlite_path=path) as saver:
        first = chat(engine, practice.physician, model, checkpointer=saver, thread="restart-1")
        waiting = first.send("Ask Lee to add moxibustion for Ada")
        assert waiting.waiting
    # A new process: new checkpointer, new graph; only the file / database remain.
    with open_checkpointer(db_url=db_url, sqlite_path=path) as saver:
        later = chat(engine, practice.physician, model, checkpointer=saver, thread="restart-1")
        [approval] = later.pending()
        assert approval == waiting.approvals[0]
        assert _messages(engine) == 0
        done = later.decide("approve")
    assert done.reply == "Sent." and _messages(engine) == 1


def test_an_approved_write_runs_exactly_once_across_a_crash(
    engine, db_url, practice, tmp_path, monkeypatch
) -> None:
    path = tmp_path / "chat.sqlite"
    model = ToolCallingChatModel.scripted([_message_call(practice), "Sent."])
    real_execute = chat_graph.execute

    def commit_then_die(**kwargs):  # type: ignore[no-untyped-def]
        real_execute(**kwargs)
        raise PowerCut

    with open_checkpointer(db_url=db_url, sqlite_path=path) as saver:
        session = chat(engine, practice.physician, model, checkpointer=saver, thread="crash-1")
        session.send("Ask Lee to add moxibustion for Ada")
        monkeypatch.setattr(chat_graph, "execute", commit_then_die)
        with pytest.raises(PowerCut):
            session.decide("approve")
    monkeypatch.setattr(chat_graph, "execute", real_execute)
    assert _messages(engine) == 1  # the write committed; the checkpoint never recorded it

    with open_checkpointer(db_url=db_url, sqlite_path=path) as saver:
        later = chat(engine, practice.physician, model, checkpointer=saver, thread="crash-1")
        assert later.interrupted() and not later.pending()
        turn = later.resume()  # the tools node runs again
    assert turn.reply == "Sent."
    assert _messages(engine) == 1  # ... and finds the write done: not repeated
    assert "message:" in str(turn.tool_results[0].content)  # the stored result, replayed
    assert [r.outcome for r in tool_audit(engine)] == ["done", "replayed"]


def test_without_the_idempotency_key_the_rerun_would_repeat_the_write(
    engine, db_url, practice, tmp_path, monkeypatch
) -> None:
    """The control for the test above: the key is what prevents the second message."""
    path = tmp_path / "chat.sqlite"
    model = ToolCallingChatModel.scripted([_message_call(practice), "Sent."])
    real_execute = chat_graph.execute

    def commit_then_die(**kwargs):  # type: ignore[no-untyped-def]
        real_execute(**kwargs)
        raise PowerCut

    with open_checkpointer(db_url=db_url, sqlite_path=path) as saver:
        session = chat(engine, practice.physician, model, checkpointer=saver, thread="crash-2")
        session.send("Ask Lee")
        monkeypatch.setattr(chat_graph, "execute", commit_then_die)
        with pytest.raises(PowerCut):
            session.decide("approve")
    monkeypatch.setattr(chat_graph, "execute", real_execute)
    with Session(engine) as s:
        for row in s.exec(select(ToolExecution)).all():
            s.delete(row)
        s.commit()
    with open_checkpointer(db_url=db_url, sqlite_path=path) as saver:
        chat(engine, practice.physician, model, checkpointer=saver, thread="crash-2").resume()
    assert _messages(engine) == 2


def test_resume_on_a_finished_thread_does_nothing(engine, db_url, practice, tmp_path) -> None:
    model = ToolCallingChatModel.scripted(["Hello."])
    with open_checkpointer(db_url=db_url, sqlite_path=tmp_path / "c.sqlite") as saver:
        session = chat(engine, practice.physician, model, checkpointer=saver, thread="done-1")
        session.send("hi")
        assert not session.interrupted()
        assert session.resume().reply == "Hello."
    assert len(model.calls) == 1
