"""Database failures say which failure they are (issue 11, item 14), on the CLI and the API:
a write lock held by another process, a full disk, a corrupt file (the practice database or
the chat store, named), a server that does not answer; and a chunked body over the limit
is a 413 like a declared one. All with real SQLite files, locks and a real refused port.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.api import create_app
from db.engine import make_engine, sqlite_path
from tests.support.api import build_team, client, settings_for
from tests.support.cli import run


@pytest.fixture
def practice_db(tmp_path: Path) -> Path:
    assert run("init", "--no-admin").exit_code == 0
    return tmp_path / "steve-data" / "steve.db"


@pytest.fixture
def write_lock_held() -> Iterator[object]:
    """Another connection (as another process would) holding the database's write lock."""
    held: list[sqlite3.Connection] = []

    def hold(path: Path) -> None:
        conn = sqlite3.connect(str(path), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.append(conn)

    yield hold
    for conn in held:
        conn.rollback()
        conn.close()


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- CLI


def test_cli_lock_timeout_says_busy_not_unreachable(practice_db: Path, write_lock_held) -> None:
    write_lock_held(practice_db)
    result = run("init", "--no-admin")  # init takes the write lock to migrate
    message = _one_line(result.stderr)
    assert result.exit_code == 75  # EX_TEMPFAIL: try again later
    assert f"database file {practice_db} is busy" in message
    assert "another process holds the write lock; try again" in message
    assert "unreachable" not in message


def test_cli_corrupt_database_names_the_file(practice_db: Path) -> None:
    for extra in ("-wal", "-shm"):
        Path(f"{practice_db}{extra}").unlink(missing_ok=True)
    practice_db.write_bytes(b"this is not a SQLite database " * 200)
    for args in (("tasks", "list"), ("overview",), ("init", "--no-admin")):
        result = run(*args)
        message = _one_line(result.stderr)
        assert result.exit_code == 3, args
        assert f"database file {practice_db} is corrupt; restore it from a backup" in message
        assert "Traceback" not in result.stderr + result.stdout


def test_cli_server_that_does_not_answer_is_unreachable() -> None:
    url = "postgresql://postgres@127.0.0.1:1/steve"  # nothing listens on port 1
    result = run("tasks", "list", env={"STEVE_DATABASE_URL": url})
    message = _one_line(result.stderr)
    assert result.exit_code == 3
    assert "PostgreSQL database 'steve' on 127.0.0.1 is unreachable" in message
    assert "busy" not in message and "corrupt" not in message


# --------------------------------------------------------------------------- API


def _sqlite_only(db_url: str) -> Path:
    path = sqlite_path(db_url)
    if path is None:
        pytest.skip("SQLite file failures")
    return path


def test_api_full_disk_is_a_503_saying_disk_full(engine, db_url) -> None:
    path = _sqlite_only(db_url)
    team = build_team(engine, roles=("physician",))
    with sqlite3.connect(str(path)) as raw:
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
    raw.close()
    full = make_engine(db_url)

    @event.listens_for(full, "connect")
    def _cap(dbapi_connection, _record) -> None:  # SQLite's own SQLITE_FULL, no fake
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    c = client(full, db_url)
    body = {"title": "call", "details": "x" * 3_900, "assignee_id": team.practice.physician}
    for _ in range(40):  # the free room left in the last pages goes first
        r = c.post("/api/tasks", json=body, headers=team.auth("physician"))
        if r.status_code != 201:
            break
    full.dispose()
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "disk_full" and error["message"].startswith("disk full")


def test_api_lock_timeout_is_a_503_saying_busy(engine, db_url, write_lock_held) -> None:
    path = _sqlite_only(db_url)
    team = build_team(engine, roles=("physician",))
    quick = make_engine(db_url)

    @event.listens_for(quick, "connect")
    def _short_wait(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 200")

    c = client(quick, db_url)
    write_lock_held(path)
    body = {"title": "call", "assignee_id": team.practice.physician}
    r = c.post("/api/tasks", json=body, headers=team.auth("physician"))
    quick.dispose()
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "database_busy"
    assert "another process holds the write lock; try again" in error["message"]


def test_api_corrupt_chat_store_names_the_file(engine, db_url, tmp_path, caplog) -> None:
    _sqlite_only(db_url)  # chat.sqlite is the SQLite practice's chat store
    team = build_team(engine, roles=("physician",))
    chat_file = tmp_path / "chat.sqlite"
    chat_file.write_bytes(b"garbage, not SQLite " * 300)
    app = create_app(
        settings_for(db_url, chat_checkpoint_path=chat_file),
        engine=engine,
        model_factory=lambda: None,
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        thread = c.post("/api/chat/threads", headers=team.auth("physician")).json()
        with caplog.at_level(logging.ERROR, logger="steve.api"):
            r = c.get(f"/api/chat/threads/{thread['id']}", headers=team.auth("physician"))
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "database_corrupt"
    assert error["message"] == f"chat store {chat_file} is corrupt; restore it from a backup"
    assert any(str(chat_file) in rec.getMessage() for rec in caplog.records)


def test_chunked_body_over_the_limit_is_413(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    c = client(engine, db_url, max_request_bytes=2048)
    headers = {**team.auth("physician"), "content-type": "application/json"}
    payload = (
        b'{"title": "x", "assignee_id": %d, "details": "' % team.practice.physician
        + b"y" * 3_000_000
        + b'"}'
    )

    def chunks(data: bytes) -> Iterator[bytes]:  # no Content-Length: chunked encoding
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    r = c.post("/api/tasks", content=chunks(payload), headers=headers)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    small = b'{"title": "x", "assignee_id": %d}' % team.practice.physician
    ok = c.post("/api/tasks", content=chunks(small), headers=headers)
    assert ok.status_code == 201, ok.text
