"""Chat threads on PostgreSQL: the saver's tables are made by `steve init` and at start-up,
outside any request, and no request waits on its own open transaction (issue 11, item 5).

Each test makes its own fresh database: the saver's schema must not exist beforehand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from agent.chat.checkpoint import SCHEMA, checkpoint_schema_ready
from app.api import create_app
from db.engine import make_engine, migrate
from tests.support.api import build_team, settings_for
from tests.support.cli import run
from tests.support.databases import (
    PG_ADMIN_URL,
    create_database,
    drop_database,
    postgres_available,
)
from tests.support.fake_models import ToolCallingChatModel

pytestmark = pytest.mark.postgres

BOUND_SECONDS = 60.0


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """A brand-new database (no langgraph schema yet); dropped, connections and all, after."""
    if reason := postgres_available():
        pytest.skip(reason)
    url = create_database("steve_chatsetup")
    yield url
    drop_database(url)


def _within(seconds: float, fn: Any, *, url: str) -> Any:
    """fn() in a thread; fails (instead of hanging the suite) when it takes too long, and
    then ends the database's sessions so the stuck thread and the teardown return."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        _end_sessions(url)
        worker.join(10)
        pytest.fail(f"the first chat request was still waiting after {seconds:.0f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _end_sessions(url: str) -> None:
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            sa.text(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = :d and pid <> pg_backend_pid()"
            ),
            {"d": name},
        )
    admin.dispose()


def _saver_tables(url: str) -> set[str]:
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(
                sa.text("select tablename from pg_tables where schemaname = :s"), {"s": SCHEMA}
            )
            return {r[0] for r in rows}
    finally:
        eng.dispose()


def _first_chat(url: str, *, lifespan: bool) -> dict[str, Any]:
    eng = make_engine(url)
    migrate(eng)
    team = build_team(eng, roles=("physician",))
    model = ToolCallingChatModel.scripted(["Good morning."])
    app = create_app(settings_for(url), engine=eng, model_factory=lambda: model)
    h = team.auth("physician")
    try:
        c = TestClient(app, raise_server_exceptions=False)
        if lifespan:
            c.__enter__()
        try:

            def chat() -> dict[str, Any]:
                thread = c.post("/api/chat/threads", headers=h).json()["id"]
                r = c.post(f"/api/chat/threads/{thread}/messages", json={"text": "Hi"}, headers=h)
                assert r.status_code == 200, r.text
                shown = c.get(f"/api/chat/threads/{thread}", headers=h)
                assert shown.status_code == 200, shown.text
                return {"reply": r.json()["reply"], "shown": shown.json()}

            return dict(_within(BOUND_SECONDS, chat, url=url))
        finally:
            if lifespan:
                c.__exit__(None, None, None)
    finally:
        app.state.chat.close()
        eng.dispose()


def test_first_chat_on_a_fresh_postgres_database_answers(fresh_pg) -> None:
    """Served as `steve serve` does (the app's start-up runs): no hang, an answer."""
    out = _first_chat(fresh_pg, lifespan=True)
    assert out["reply"] == "Good morning."
    assert [m["role"] for m in out["shown"]["messages"]] == ["user", "assistant"]
    assert checkpoint_schema_ready(db_url=fresh_pg)


def test_first_chat_answers_even_without_the_start_up_hook(fresh_pg) -> None:
    """An app whose start-up did not run (a bare TestClient) still makes the tables outside
    the request's transaction, and answers within the bound."""
    out = _first_chat(fresh_pg, lifespan=False)
    assert out["reply"] == "Good morning."


def test_init_makes_the_chat_saver_tables(fresh_pg, monkeypatch) -> None:
    monkeypatch.setenv("STEVE_DATABASE_URL", fresh_pg)
    assert _saver_tables(fresh_pg) == set()
    result = run("init", "--no-admin")
    assert result.exit_code == 0, result.output
    assert {"checkpoints", "checkpoint_blobs", "checkpoint_writes"} <= _saver_tables(fresh_pg)
    assert checkpoint_schema_ready(db_url=fresh_pg)
