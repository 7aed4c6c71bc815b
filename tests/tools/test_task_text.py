"""Clinical text in tasks reaches clinicians only, through every way in: the API, the web
page, the CLI and the chat tools (tools.tasks.task_view is the one place that decides).

A physician's task about a patient is clinical by default; staff and admin read a neutral
title naming the patient's id and no details; the physician, a practitioner in whose
programme the patient is, and the task's author and assignee read it all. `my_tasks` in
chat lists only tasks about patients the user may see.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import ToolCall
from sqlalchemy import Engine
from sqlmodel import Session

from agent.toolbox import toolbox_for
from agent.toolbox.execute import execute
from db.models import Task
from tests.support.api import build_team, client, web_login
from tests.support.chat import runtime
from tests.support.cli import run
from tools.access import actor_for

TITLE = "Call re HbA1c 9.1 mmol/mol - start metformin"
DETAILS = "PHQ-9 18; discuss sertraline"
SECRETS = ("HbA1c", "metformin", "PHQ-9", "sertraline")
OUT_OF_SCOPE = "Adjust thyroxine dose for Bob"  # about a patient outside the acupuncturist's


def _id(record: dict[str, Any]) -> int:
    return int(record["ref"].removeprefix("task:"))


def _clean(text: str) -> bool:
    return not any(s in text for s in SECRETS)


def _full(text: str) -> bool:
    return all(s in text for s in SECRETS)


@pytest.fixture
def world(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)  # the CLI reads the same database
    team = build_team(engine, roles=("physician", "practitioner", "staff", "admin"))
    p = team.practice
    c = client(engine, db_url)
    doc = team.auth("physician")

    def post(body: dict[str, Any], auth: dict[str, str]) -> dict[str, Any]:
        r = c.post("/api/tasks", json=body, headers=auth)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    clinical = post(
        {
            "title": TITLE,
            "details": DETAILS,
            "assignee_id": p.nutritionist,  # in Ada's programme
            "patient_id": p.patient,
            "due_on": "2000-01-03",  # long overdue, whatever today is
        },
        doc,
    )
    out = post(
        {"title": OUT_OF_SCOPE, "assignee_id": p.acupuncturist, "patient_id": p.other_patient}, doc
    )
    desk = post(
        {"title": "Rebook Ada", "assignee_id": p.staff, "patient_id": p.patient}, team.auth("staff")
    )
    plain = post(
        {
            "title": "Ask Ada for her ID",
            "assignee_id": p.staff,
            "patient_id": p.patient,
            "clinical": False,
        },
        doc,
    )
    return {"team": team, "c": c, "engine": engine, "ids": (clinical, out, desk, plain)}


def test_the_clinical_flag_defaults_from_who_wrote_it(world) -> None:
    clinical, out, desk, plain = world["ids"]
    assert clinical["clinical"] is True and out["clinical"] is True  # a physician, a patient
    assert desk["clinical"] is False  # front desk wrote it: nothing clinical to hide
    assert plain["clinical"] is False  # said so explicitly
    assert clinical["title"] == TITLE  # the author reads their own task


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_api_gives_non_clinicians_the_neutral_text(world, role: str) -> None:
    team, c = world["team"], world["c"]
    clinical, _, desk, plain = world["ids"]
    for path in ("/api/tasks", "/api/tasks/mine", "/api/tasks/overdue", "/api/tasks?status=all"):
        r = c.get(path, headers=team.auth(role))
        assert r.status_code == 200 and _clean(r.text), path
    items = {t["ref"]: t for t in c.get("/api/tasks", headers=team.auth(role)).json()["items"]}
    hidden = items[clinical["ref"]]
    assert hidden["withheld"] is True and hidden["details"] is None
    assert (
        hidden["title"]
        == f"Clinical follow-up for patient {team.practice.patient} (details for clinicians)"
    )
    assert items[desk["ref"]]["title"] == "Rebook Ada" and items[plain["ref"]]["withheld"] is False
    done = c.post(f"/api/tasks/{_id(clinical)}/complete", headers=team.auth(role))
    assert done.status_code == 200 and _clean(done.text)


@pytest.mark.parametrize("role", ["physician", "practitioner"])
def test_api_gives_clinicians_in_scope_the_full_text(world, role: str) -> None:
    team, c = world["team"], world["c"]
    r = c.get("/api/tasks", headers=team.auth(role))
    assert r.status_code == 200 and _full(r.text)
    # The acupuncturist does not see the task about a patient outside their programmes.
    assert (OUT_OF_SCOPE in r.text) == (role == "physician")


def test_web_tasks_page(world) -> None:
    team = world["team"]
    for role, shown in (("staff", False), ("physician", True)):
        c = world["c"]
        c.cookies.clear()
        assert web_login(c, role).status_code == 303
        page = c.get("/tasks")
        assert page.status_code == 200
        assert _full(page.text) if shown else _clean(page.text), role
        if not shown:
            assert f"Clinical follow-up for patient {team.practice.patient}" in page.text


def test_cli_lists_clinical_text_only_for_clinicians(world) -> None:
    def listed(*args: str) -> str:
        result = run("tasks", *args, "--json")
        assert result.exit_code == 0, result.stderr
        json.loads(result.stdout)
        return result.stdout

    assert _clean(listed("list", "--as", "Sam Desk"))
    assert _clean(listed("mine", "--as", "Sam Desk"))
    assert _clean(listed("list", "--overdue", "--as", "Sam Desk"))
    assert _clean(listed("list"))  # nobody said who they are: the neutral text
    assert _full(listed("list", "--as", "Dr Quinn"))
    assert _full(listed("list", "--as", "Lee Acu"))
    assert OUT_OF_SCOPE not in listed("mine", "--as", "Lee Acu")
    assert OUT_OF_SCOPE in listed("list", "--as", "Dr Quinn")


def _tool(engine: Engine, practitioner_id: int, name: str, **args: Any) -> str:
    with Session(engine) as session:
        actor = actor_for(session=session, practitioner_id=practitioner_id)
    call: ToolCall = {"name": name, "args": args, "id": f"id-{name}", "type": "tool_call"}
    msg = execute(
        toolbox=toolbox_for(actor),
        runtime=runtime(engine),
        call=call,
        decision="not_needed",
        thread_id="t",
    )
    assert msg.status != "error", msg.content
    return str(msg.content)


def test_chat_tools_read_clinical_text_only_for_clinicians(world) -> None:
    engine, p = world["engine"], world["team"].practice
    assert _full(_tool(engine, p.nutritionist, "my_tasks"))
    assert _clean(_tool(engine, p.staff, "practice_overview_today", date="2030-01-07"))
    assert _full(_tool(engine, p.physician, "practice_overview_today", date="2030-01-07"))
    # my_tasks is scope-filtered: the acupuncturist's task about Bob is not theirs to see.
    with Session(engine) as session:
        task = session.get(Task, _id(world["ids"][1]))
        assert task is not None and task.assignee_id == p.acupuncturist
    assert OUT_OF_SCOPE not in _tool(engine, p.acupuncturist, "my_tasks")


def test_the_assignee_reads_what_the_author_addressed_to_them(world) -> None:
    team, c = world["team"], world["c"]
    p = team.practice
    body = {"title": "Tell Ada: " + TITLE, "assignee_id": p.staff, "patient_id": p.patient}
    made = c.post("/api/tasks", json=body, headers=team.auth("physician")).json()
    assert made["clinical"] is True
    mine = c.get("/api/tasks/mine", headers=team.auth("staff")).text
    assert TITLE in mine  # Sam Desk was given it to act on
    assert _clean(c.get("/api/tasks", headers=team.auth("admin")).text)
    listed = run("tasks", "mine", "--as", "Sam Desk", "--json")
    assert listed.exit_code == 0 and TITLE in listed.stdout
