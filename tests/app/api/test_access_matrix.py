"""Every role against every endpoint and every agent tool: allowed -> 2xx, denied -> 403 (or,
for tools, refused) with an audit record. Plus tokens that must not work, and stored XSS.

Roles: physician; practitioner (an acupuncturist working in the patient's programme);
staff (reception); admin. The tables below are the README's access matrix.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from sqlmodel import Session

from agent.toolbox import SPECS
from tests.support.api import add_records, audit_rows, build_team, client
from tests.support.chat import tool_audit
from tests.support.fake_models import ToolCallingChatModel

ROLES = ("physician", "practitioner", "staff", "admin")
P, PR, S, A = ROLES
EVERYONE = frozenset(ROLES)

# (name, method, path, json body, roles allowed). {x} are filled from the practice.
ENDPOINTS: list[tuple[str, str, str, dict[str, Any] | None, frozenset[str]]] = [
    ("me", "GET", "/api/me", None, EVERYONE),
    (
        "briefing by patient",
        "GET",
        "/api/briefings/patient/{patient}?date=2030-01-08",
        None,
        frozenset({P}),
    ),
    (
        "briefings of a day",
        "GET",
        "/api/briefings/day?date=2030-01-08&physician_id={physician}&summary=true",
        None,
        frozenset({P}),
    ),
    ("digests", "GET", "/api/digests", None, frozenset({P, PR})),
    ("one digest", "GET", "/api/digests/{digest}", None, frozenset({P, PR})),
    ("reviews", "GET", "/api/reviews", None, frozenset({P})),
    ("acknowledge review", "POST", "/api/reviews/{review}/ack", {}, frozenset({P})),
    (
        "snooze review",
        "POST",
        "/api/reviews/{review}/snooze",
        {"until": "2099-01-01"},
        frozenset({P}),
    ),
    ("my tasks", "GET", "/api/tasks/mine", None, EVERYONE),
    ("team tasks", "GET", "/api/tasks?patient_id={patient}", None, EVERYONE),
    ("overdue tasks", "GET", "/api/tasks/overdue", None, EVERYONE),
    (
        "create task",
        "POST",
        "/api/tasks",
        {"title": "Call back", "assignee_id": "{staff}", "patient_id": "{patient}"},
        EVERYONE,
    ),
    (
        "create task, patient outside scope",
        "POST",
        "/api/tasks",
        {"title": "Call back", "assignee_id": "{staff}", "patient_id": "{other_patient}"},
        frozenset({P, S, A}),
    ),
    ("reassign task", "POST", "/api/tasks/{task}/assign", {"assignee_id": "{staff}"}, EVERYONE),
    ("complete task", "POST", "/api/tasks/{task}/complete", {}, EVERYONE),
    ("referrals", "GET", "/api/referrals", None, EVERYONE),
    ("overdue referrals", "GET", "/api/referrals/overdue", None, EVERYONE),
    (
        "advance referral",
        "POST",
        "/api/referrals/{referral}/advance",
        {"to_status": "sent"},
        EVERYONE,
    ),
    ("day schedule", "GET", "/api/schedule/day?date=2030-01-08", None, EVERYONE),
    (
        "free slots",
        "GET",
        "/api/schedule/slots?practitioner_id={physician}&date=2030-01-09",
        None,
        EVERYONE,
    ),
    (
        "book",
        "POST",
        "/api/schedule/appointments",
        {
            "patient_id": "{patient}",
            "practitioner_id": "{physician}",
            "start": "2030-01-09 11:00",
            "duration_minutes": 30,
        },
        EVERYONE,
    ),
    (
        "book, patient outside scope",
        "POST",
        "/api/schedule/appointments",
        {
            "patient_id": "{other_patient}",
            "practitioner_id": "{physician}",
            "start": "2030-01-09 11:00",
            "duration_minutes": 30,
        },
        frozenset({P, S, A}),
    ),
    ("cancel", "POST", "/api/schedule/appointments/{appointment}/cancel", {}, EVERYONE),
    ("audit log", "GET", "/api/audit", None, frozenset({A})),
    ("new chat thread", "POST", "/api/chat/threads", None, EVERYONE),
    ("chat threads", "GET", "/api/chat/threads", None, EVERYONE),
    ("pending approvals", "GET", "/api/chat/approvals", None, EVERYONE),
    (
        "import FHIR (dry run)",
        "POST",
        "/api/import/fhir?dry_run=true",
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        frozenset({A}),
    ),
]

# Tools each role's chat may use (search_patient_notes needs a memory store, which the
# API's chat does not open: it is offered to nobody there).
ADMINISTRATIVE_TOOLS = frozenset(
    {
        "find_patients",
        "patient_programme",
        "list_practitioners",
        "free_slots",
        "day_schedule",
        "practice_overview_today",
        "my_tasks",
        "list_overdue_referrals",
        "book_appointment",
        "reschedule_appointment",
        "cancel_appointment",
        "advance_referral",
        "create_task",
        "complete_task",
    }
)
TOOLS: dict[str, frozenset[str]] = {
    P: frozenset(s.name for s in SPECS) - {"search_patient_notes"},
    PR: ADMINISTRATIVE_TOOLS
    | {
        "search_literature",
        "evidence_summary",
        "my_preferences",
        "create_referral",
        "send_care_message",
    },
    S: ADMINISTRATIVE_TOOLS,
    A: ADMINISTRATIVE_TOOLS,
}


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _ids(team: Any, recs: Any) -> dict[str, int]:
    p = team.practice
    return {
        "patient": p.patient,
        "other_patient": p.other_patient,
        "physician": p.physician,
        "staff": p.staff,
        "appointment": p.appointment,
        "task": recs.task,
        "referral": recs.referral,
        "review": recs.review,
        "digest": recs.digest,
        "nutritionist": p.nutritionist,
        "external": p.external,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_role_against_endpoint(engine, db_url, role, endpoint) -> None:
    name, method, path, body, allowed = endpoint
    team = build_team(engine, roles=(role,))
    recs = add_records(engine, team)
    ids = _ids(team, recs)
    before = len(audit_rows(engine, action="denied"))
    c = client(engine, db_url)
    r = c.request(method, _fill(path, ids), json=_fill(body, ids), headers=team.auth(role))
    if role in allowed:
        assert 200 <= r.status_code < 300, (name, role, r.status_code, r.text[:300])
        assert len(audit_rows(engine, action="denied")) == before
    else:
        assert r.status_code == 403, (name, role, r.status_code, r.text[:300])
        assert r.json()["error"]["code"] == "forbidden"
        denied = audit_rows(engine, action="denied")
        assert len(denied) == before + 1
        assert denied[-1].origin.startswith("api:")


def _tool_args(tool: str, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "find_patients": {"name": "Ada"},
        "patient_programme": {"patient_id": ids["patient"]},
        "list_practitioners": {},
        "free_slots": {
            "practitioner_id": ids["physician"],
            "date": "2030-01-09",
            "duration_minutes": 30,
        },
        "day_schedule": {"date": "2030-01-08"},
        "practice_overview_today": {"date": "2030-01-08"},
        "my_tasks": {},
        "list_overdue_referrals": {},
        "search_literature": {"query": "bloating"},
        "evidence_summary": {"refs": ["pmid:123"]},
        "protocol_reviews_due": {},
        "search_patient_notes": {"patient_id": ids["patient"], "query": "sleep"},
        "my_preferences": {},
        "book_appointment": {
            "patient_id": ids["patient"],
            "practitioner_id": ids["physician"],
            "start": "2030-01-09 11:00",
            "duration_minutes": 30,
        },
        "reschedule_appointment": {
            "appointment_id": ids["appointment"],
            "new_start": "2030-01-09 14:00",
        },
        "cancel_appointment": {"appointment_id": ids["appointment"]},
        "create_referral": {
            "patient_id": ids["patient"],
            "to_practitioner_id": ids["external"],
            "reason": "bloating",
        },
        "advance_referral": {"referral_id": ids["referral"], "to_status": "sent"},
        "send_care_message": {
            "recipient_id": ids["nutritionist"],
            "subject": "Ada",
            "body": "Please see Ada",
            "patient_id": ids["patient"],
        },
        "create_task": {"assignee_id": ids["staff"], "title": "Call Ada"},
        "complete_task": {"task_id": ids["task"]},
        "acknowledge_protocol_review": {"review_id": ids["review"]},
    }[tool]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("tool", [s.name for s in SPECS])
def test_role_against_agent_tool(engine, db_url, role, tool) -> None:
    """Through the chat API: the model calls the tool; writes are approved by the user."""
    team = build_team(engine, roles=(role,))
    ids = _ids(team, add_records(engine, team))
    request = AIMessage(
        content="",
        tool_calls=[
            {"name": tool, "args": _tool_args(tool, ids), "id": f"call_{tool}", "type": "tool_call"}
        ],
    )
    model = ToolCallingChatModel.scripted([request, "Done."])
    c = client(engine, db_url, model=model)
    h = team.auth(role)
    thread = c.post("/api/chat/threads", headers=h).json()["id"]
    turn = c.post(f"/api/chat/threads/{thread}/messages", json={"text": "go"}, headers=h)
    assert turn.status_code == 200, turn.text
    if turn.json()["approvals"]:
        approval = turn.json()["approvals"][0]
        assert approval["tool"] == tool
        turn = c.post(
            f"/api/chat/threads/{thread}/decision",
            headers=h,
            json={"decision": "approve", "tool_call_id": approval["tool_call_id"]},
        )
        assert turn.status_code == 200, turn.text
    assert turn.json()["reply"] == "Done."
    rows = [r for r in tool_audit(engine) if r.tool == tool]
    assert rows, "every tool call leaves an audit record"
    if tool in TOOLS[role]:
        assert tool in model.bound_tools
        assert rows[-1].outcome == "done", (tool, role, rows[-1].outcome)
    else:
        assert tool not in model.bound_tools  # never offered to this role's model
        assert rows[-1].outcome in ("unknown_tool", "denied")


# ------------------------------------------------------------------ bad tokens


def test_missing_forged_expired_and_revoked_tokens_get_401(engine, db_url) -> None:
    from datetime import timedelta

    from db.engine import utcnow
    from tools.users import create_token, revoke_token

    team = build_team(engine, roles=("physician",))
    uid = team.users["physician"]
    with Session(engine) as session:
        expired = create_token(
            session=session, user_id=uid, name="old", expires_at=utcnow() - timedelta(minutes=1)
        ).secret
        revoked = create_token(session=session, user_id=uid, name="gone")
        assert revoked.token.id is not None
        revoke_token(session=session, token_id=revoked.token.id)
        session.commit()
    good = team.tokens["physician"]
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    c = client(engine, db_url)
    cases = {
        "missing": {},
        "forged": {"Authorization": f"Bearer {forged}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "revoked": {"Authorization": f"Bearer {revoked.secret}"},
        "not bearer": {"Authorization": f"Basic {good}"},
        "made up": {"Authorization": "Bearer stv_00000000_nothing"},
    }
    for name, headers in cases.items():
        r = c.get("/api/tasks/mine", headers=headers)
        assert r.status_code == 401, name
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["www-authenticate"] == "Bearer"
    assert c.get("/api/tasks/mine", headers=team.auth("physician")).status_code == 200


def test_a_stored_xss_attempt_in_a_note_renders_escaped(engine, db_url) -> None:
    from datetime import UTC, datetime

    from tests.support.api import web_login
    from tools.notes import add_note

    team = build_team(engine, roles=("physician",))
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with Session(engine) as session:
        add_note(
            session=session,
            patient_id=team.practice.patient,
            practitioner_id=team.practice.nutritionist,
            title=payload,
            body=f"Patient said {payload} at reception.",
            written_at=datetime(2030, 1, 6, 9, 0, tzinfo=UTC),
        )
        session.commit()
    c = client(engine, db_url)
    api = c.get(
        f"/api/briefings/patient/{team.practice.patient}?date=2030-01-08",
        headers=team.auth("physician"),
    )
    assert api.status_code == 200
    assert "<script>" not in api.json()["html"]
    assert web_login(c, "physician").status_code == 303
    page = c.get(f"/briefing/{team.practice.patient}?date=2030-01-08")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;" in page.text or "&lt;img" in page.text
    # The same text as a task title, on the tasks page.
    created = c.post(
        "/api/tasks",
        headers=team.auth("physician"),
        json={"title": payload, "assignee_id": team.practice.physician},
    )
    assert created.status_code == 201
    tasks_page = c.get("/tasks")
    assert "<script>alert" not in tasks_page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in tasks_page.text
