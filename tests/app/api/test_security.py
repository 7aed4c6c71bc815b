"""Security hygiene of the API and web app: login and CSRF, lock-out and rate limits,
session expiry, request size, headers, error bodies without patient data, audit origins."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from db.models import WebSession
from tests.support.api import PASSWORD, audit_rows, build_team, client, web_login


def test_web_login_sets_an_httponly_session_and_csrf_guards_writes(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    c = client(engine, db_url)
    r = web_login(c, "physician")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "steve_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = c.get("/api/me").json()
    assert me["role"] == "physician" and me["csrf_token"]
    body = {"title": "x", "assignee_id": team.practice.physician}
    refused = c.post("/api/tasks", json=body)  # cookie alone is not enough for a write
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf"
    ok = c.post("/api/tasks", json=body, headers={"X-CSRF-Token": me["csrf_token"]})
    assert ok.status_code == 201
    form = c.post("/tasks", data={"title": "y", "assignee_id": str(team.practice.physician)})
    assert form.status_code == 403  # a form without the token
    with_token = c.post(
        "/tasks",
        follow_redirects=False,
        data={
            "title": "y",
            "assignee_id": str(team.practice.physician),
            "csrf_token": me["csrf_token"],
        },
    )
    assert with_token.status_code == 303


def test_login_form_needs_its_csrf_cookie_and_wrong_passwords_say_little(engine, db_url) -> None:
    build_team(engine, roles=("physician",))
    c = client(engine, db_url)
    no_token = c.post("/login", data={"username": "physician", "password": PASSWORD})
    assert no_token.status_code == 403
    wrong = web_login(c, "physician", "not the password")
    assert wrong.status_code == 401 and "Invalid username or password." in wrong.text
    nobody = web_login(c, "nobody", "not the password")
    assert nobody.status_code == 401 and "Invalid username or password." in nobody.text


def test_accounts_lock_after_repeated_failures(engine, db_url) -> None:
    build_team(engine, roles=("physician",))
    c = client(engine, db_url, login_lockout_attempts=3, login_rate_per_minute=100)
    for _ in range(3):
        assert web_login(c, "physician", "wrong password").status_code == 401
    assert web_login(c, "physician").status_code == 401  # locked, even with the right one
    assert len(audit_rows(engine, action="login_failed")) == 3
    assert audit_rows(engine, action="login_refused")


def test_logins_are_rate_limited_per_address(engine, db_url) -> None:
    build_team(engine, roles=("physician",))
    c = client(engine, db_url, login_rate_per_minute=3, login_lockout_attempts=100)
    codes = [web_login(c, "physician", "wrong password").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_chat_is_rate_limited_per_user(engine, db_url) -> None:
    team = build_team(engine, roles=("staff",))
    c = client(engine, db_url, chat_rate_per_minute=2)
    h = team.auth("staff")
    thread = c.post("/api/chat/threads", headers=h).json()["id"]
    codes = [
        c.post(f"/api/chat/threads/{thread}/messages", json={"text": "hi"}, headers=h).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


def test_idle_web_sessions_expire(engine, db_url) -> None:
    from datetime import timedelta

    from db.engine import utcnow

    build_team(engine, roles=("physician",))
    c = client(engine, db_url, session_idle_minutes=5)
    web_login(c, "physician")
    assert c.get("/api/me").status_code == 200
    with Session(engine) as session:
        row = session.exec(select(WebSession)).one()
        row.last_seen = utcnow() - timedelta(minutes=6)
        session.add(row)
        session.commit()
    assert c.get("/api/me").status_code == 401
    assert c.get("/", follow_redirects=False).headers["location"] == "/login"


def test_logout_ends_the_session(engine, db_url) -> None:
    build_team(engine, roles=("physician",))
    c = client(engine, db_url)
    web_login(c, "physician")
    page = c.get("/tasks")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    c.post("/logout", data={"csrf_token": token.group(1)})
    assert c.get("/api/me").status_code == 401


def test_large_bodies_are_refused(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    c = client(engine, db_url, max_request_bytes=2048)
    r = c.post(
        "/api/tasks",
        headers=team.auth("physician"),
        json={"title": "x", "details": "y" * 5000, "assignee_id": 1},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_security_headers_and_consistent_error_bodies(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    c = client(engine, db_url)
    r = c.get("/api/tasks/999999/complete", headers=team.auth("physician"))
    assert r.status_code == 405 and set(r.json()["error"]) == {"code", "message"}
    missing = c.post("/api/tasks/999999/complete", headers=team.auth("physician"))
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "no task with id 999999"}}
    bad = c.post(
        "/api/tasks", headers=team.auth("physician"), json={"title": "", "assignee_id": "x"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    for header in (
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ):
        assert header in r.headers
    assert r.headers["cache-control"] == "no-store"
    assert c.get("/docs").status_code == 200
    assert "/api/tasks" in c.get("/openapi.json").json()["paths"]


def test_errors_never_echo_patient_data(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    c = client(engine, db_url)
    r = c.get(
        "/api/schedule/slots?practitioner_id=1&date=Ada%20Lovelace", headers=team.auth("physician")
    )
    assert r.status_code == 422 and "Ada" not in r.text


def test_reads_are_audited_with_who_which_patient_and_from_where(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    c = client(engine, db_url)
    r = c.get(
        f"/api/briefings/patient/{team.practice.patient}?date=2030-01-08",
        headers=team.auth("physician"),
    )
    assert r.status_code == 200
    rows = audit_rows(engine, entity="briefing", action="read")
    assert len(rows) == 1
    row = rows[0]
    assert row.actor == f"practitioner:{team.practice.physician}"
    assert row.patient_id == team.practice.patient and row.origin == "api:testclient"
    assert row.at is not None


def test_pagination_and_filters(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    c = client(engine, db_url)
    h = team.auth("physician")
    for n in range(5):
        c.post(
            "/api/tasks", headers=h, json={"title": f"t{n}", "assignee_id": team.practice.physician}
        )
    first = c.get("/api/tasks/mine?limit=2", headers=h).json()
    assert first["total"] == 5 and len(first["items"]) == 2 and first["next_offset"] == 2
    last = c.get("/api/tasks/mine?limit=2&offset=4", headers=h).json()
    assert len(last["items"]) == 1 and last["next_offset"] is None
    assert c.get("/api/tasks/mine?limit=0", headers=h).status_code == 422
    assert c.get("/api/tasks?status=bogus", headers=h).status_code == 422


def test_a_practitioner_sees_only_their_patients(engine, db_url) -> None:
    team = build_team(engine, roles=("practitioner", "physician"))
    c = client(engine, db_url)
    p = team.practice
    for patient in (p.patient, p.other_patient):
        c.post(
            "/api/tasks",
            headers=team.auth("physician"),
            json={"title": "x", "assignee_id": p.physician, "patient_id": patient},
        )
    seen = c.get("/api/tasks", headers=team.auth("practitioner")).json()["items"]
    assert {t["patient_id"] for t in seen} == {p.patient}
    day = c.get("/api/schedule/day?date=2030-01-08", headers=team.auth("practitioner")).json()
    assert {a["patient_id"] for a in day["items"]} == {p.patient}
    other = c.get(f"/api/tasks?patient_id={p.other_patient}", headers=team.auth("practitioner"))
    assert other.status_code == 403
