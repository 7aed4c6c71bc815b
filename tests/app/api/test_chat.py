"""Chat over HTTP: threads, streamed answers (server-sent events), approvals and privacy."""

from __future__ import annotations

import json

from tests.support.api import build_team, client
from tests.support.chat import appointment_status
from tests.support.fake_models import ToolCallingChatModel, call


def _events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_a_streamed_answer_ends_with_done(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    model = ToolCallingChatModel.scripted(["Good morning. Three patients today."])
    c = client(engine, db_url, model=model)
    h = team.auth("physician")
    thread = c.post("/api/chat/threads", headers=h).json()["id"]
    r = c.post(f"/api/chat/threads/{thread}/stream", json={"text": "Morning?"}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    assert events[-1][0] == "done"
    assert events[-1][1]["reply"] == "Good morning. Three patients today."
    assert "".join(d["text"] for k, d in events if k == "token").startswith("Good morning")
    shown = c.get(f"/api/chat/threads/{thread}", headers=h).json()
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant"]
    assert c.get("/api/chat/threads", headers=h).json()["items"][0]["title"] == "Morning?"


def test_cancel_waits_for_approval_then_runs_once(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    p = team.practice
    model = ToolCallingChatModel.scripted(
        [call("cancel_appointment", appointment_id=p.appointment), "Cancelled."]
    )
    c = client(engine, db_url, model=model)
    h = team.auth("physician")
    thread = c.post("/api/chat/threads", headers=h).json()["id"]
    turn = c.post(f"/api/chat/threads/{thread}/messages", json={"text": "cancel it"}, headers=h)
    approval = turn.json()["approvals"][0]
    assert approval["tool"] == "cancel_appointment" and "Ada Lovelace" in approval["summary"]
    assert appointment_status(engine, p.appointment) == "booked"
    pending = c.get("/api/chat/approvals", headers=h).json()["items"]
    assert [a["thread_id"] for a in pending] == [thread]
    busy = c.post(f"/api/chat/threads/{thread}/stream", json={"text": "again"}, headers=h)
    assert busy.status_code == 422  # answer the waiting approval first
    r = c.post(
        f"/api/chat/threads/{thread}/decision/stream",
        headers=h,
        json={"decision": "approve", "tool_call_id": approval["tool_call_id"]},
    )
    assert _events(r.text)[-1] == (
        "done",
        {
            "reply": "Cancelled.",
            "approvals": [],
            "tools": [
                {"tool": "cancel_appointment", "ok": True, "outcome": "done", "result": "done"}
            ],
        },
    )
    assert appointment_status(engine, p.appointment) == "cancelled"
    again = c.post(f"/api/chat/threads/{thread}/decision", headers=h, json={"decision": "approve"})
    assert again.status_code == 422  # nothing waits any more


def test_rejecting_changes_nothing(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    p = team.practice
    model = ToolCallingChatModel.scripted(
        [call("cancel_appointment", appointment_id=p.appointment), "Left as it was."]
    )
    c = client(engine, db_url, model=model)
    h = team.auth("physician")
    thread = c.post("/api/chat/threads", headers=h).json()["id"]
    c.post(f"/api/chat/threads/{thread}/messages", json={"text": "cancel it"}, headers=h)
    r = c.post(f"/api/chat/threads/{thread}/decision", headers=h, json={"decision": "reject"})
    assert r.json()["reply"] == "Left as it was."
    assert appointment_status(engine, p.appointment) == "booked"
    # What happened, not that a tool "ran" (issue 11 item 12)
    assert r.json()["tools"] == [
        {
            "tool": "cancel_appointment",
            "ok": False,
            "outcome": "rejected",
            "result": "rejected by you, nothing was done",
        }
    ]
    shown = c.get(f"/api/chat/threads/{thread}", headers=h).json()["messages"]
    [result] = [m for m in shown if m["role"] == "tool_result"]
    assert (result["ok"], result["outcome"]) == (False, "rejected")


def test_threads_are_private(engine, db_url) -> None:
    team = build_team(engine, roles=("physician", "staff"))
    c = client(engine, db_url)
    thread = c.post("/api/chat/threads", headers=team.auth("physician")).json()["id"]
    for method, path, body in (
        ("GET", f"/api/chat/threads/{thread}", None),
        ("POST", f"/api/chat/threads/{thread}/messages", {"text": "hi"}),
    ):
        r = c.request(method, path, json=body, headers=team.auth("staff"))
        assert r.status_code == 404
    assert c.get("/api/chat/threads", headers=team.auth("staff")).json()["items"] == []


def test_without_a_model_chat_says_how_to_configure_one(engine, db_url) -> None:
    team = build_team(engine, roles=("staff",))
    c = client(engine, db_url)
    h = team.auth("staff")
    thread = c.post("/api/chat/threads", headers=h).json()["id"]
    r = c.post(f"/api/chat/threads/{thread}/messages", json={"text": "hi"}, headers=h)
    assert r.status_code == 200 and r.json()["reply"]


def test_chat_searches_the_practice_memory_when_it_has_one(engine, db_url, tmp_path) -> None:
    from sqlmodel import Session

    from tools.notes import add_note

    team = build_team(engine, roles=("physician",))
    p = team.practice
    with Session(engine) as session:
        note = add_note(
            session=session,
            patient_id=p.patient,
            practitioner_id=p.physician,
            body="Started magnesium glycinate 200 mg at night for leg cramps.",
        )
        session.commit()
        note_id = note.id
    (tmp_path / "chroma").mkdir()  # the practice has a memory store (empty: caught up on use)
    model = ToolCallingChatModel.scripted(
        [call("search_patient_notes", patient_id=p.patient, query="night cramps"), "Magnesium."]
    )
    c = client(engine, db_url, model=model, data_dir=tmp_path)
    h = team.auth("physician")
    thread = c.post("/api/chat/threads", headers=h).json()["id"]
    turn = c.post(f"/api/chat/threads/{thread}/messages", json={"text": "cramps?"}, headers=h)
    assert turn.status_code == 200, turn.text
    tool_reply = str(model.calls[-1][-1].content)
    assert f"note:{note_id}" in tool_reply and "magnesium glycinate" in tool_reply
