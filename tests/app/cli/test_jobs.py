"""`steve jobs list/run/history/outbox/retry`, `steve tasks mine`, `steve serve` start-up errors."""

from __future__ import annotations

from datetime import time

from sqlmodel import Session

from tests.support.cli import practice_engine, run, run_json
from tests.support.service import ZONE, physician_day
from tools.clock import today_in


def _practice() -> int:
    assert run("init").exit_code == 0
    engine = practice_engine()
    with Session(engine, expire_on_commit=False) as s:
        doc, _ = physician_day(s, today_in(ZONE), starts=(time(23, 0),))
    engine.dispose()
    assert doc.id is not None
    return doc.id


def test_list_run_history_and_outbox(_isolated_data_dir) -> None:
    doc = _practice()
    jobs = {j["job"]: j for j in run_json("jobs", "list")}
    assert f"morning-briefing:{doc}" in jobs and "deliver-outbox" in jobs
    assert jobs[f"morning-briefing:{doc}"]["schedule"] == "daily 07:00 Europe/London"

    [ran] = run_json("jobs", "run", "morning-briefing", "--force")
    assert ran["job"] == f"morning-briefing:{doc}" and ran["outcome"] == "ok", ran
    assert ran["counts"]["sent"] == 1
    assert len(list((_isolated_data_dir / "outbox").glob("*.eml"))) == 1
    [again] = run_json("jobs", "run", f"morning-briefing:{doc}", "--force")
    assert again["counts"]["already_queued"] == 1
    assert len(list((_isolated_data_dir / "outbox").glob("*.eml"))) == 1

    history = run_json("jobs", "history", "--job", "morning-briefing")
    assert [h["outcome"] for h in history] == ["ok", "ok"]
    assert history[0]["instance"].startswith("cli:")
    [mail] = run_json("jobs", "outbox")
    assert mail["state"] == "sent" and mail["key"].startswith(f"briefing:{doc}:")

    result = run("jobs", "retry", mail["key"])
    assert result.exit_code == 1 and "only failed emails" in result.stderr
    result = run("jobs", "run", "coffee-break")
    assert result.exit_code == 1 and "unknown job" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sweep_by_hand_and_tasks_mine(_isolated_data_dir) -> None:
    doc = _practice()
    [sweep] = run_json("jobs", "run", "follow-up-sweep")
    assert sweep["outcome"] == "ok"
    created = run_json(
        "tasks", "add", "Call lab about the GI-MAP", "--assign", str(doc), "--due", "tomorrow"
    )
    mine = run_json("tasks", "mine", "--as", str(doc))
    # The sweep may have given the physician a task too (when no staff member exists).
    assert created["id"] in [t["id"] for t in mine]
    assert {t["assignee_id"] for t in mine} == {doc}
    assert run("tasks", "mine").exit_code == 1
    assert run("tasks", "mine", env={"STEVE_USER": str(doc)}).exit_code == 0


def test_serve_refuses_bad_settings_in_one_line(_isolated_data_dir) -> None:
    _practice()
    result = run("serve", env={"STEVE_LITERATURE_REFRESH_CRON": "0 7 * *"})
    assert result.exit_code == 2
    assert "STEVE_LITERATURE_REFRESH_CRON" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
