"""The password flow after NIST SP 800-63B: one policy (tools.passwords.check_password) for the
CLI, the API and the web app; changing a password needs the current one and ends the
user's other web sessions; a user who must change their password gets nothing else."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from db.models import Discipline, Task, User, WebSession
from tests.support import factories
from tests.support.api import PASSWORD, Team, build_team, client, web_login
from tools.errors import InvalidInput
from tools.passwords import MAX_PASSWORD, MIN_PASSWORD, check_password, password_context
from tools.users import (
    WrongPassword,
    authenticate,
    change_password,
    create_token,
    create_user,
    start_session,
    verify_token,
)

NEW = "plum orchard in late august"
LOCK = {"max_failures": 3, "lockout": timedelta(minutes=15)}
CONTEXT = password_context(
    username="mlin", person_name="Mei-Lin Okafor", practice_name="Riverside Integrative Clinic"
)

# (password, the words its refusal must name): every NIST rule, none echoing the password.
REFUSED = [
    ("aaaaaaaaaa", f"at least {MIN_PASSWORD} characters"),
    ("short pass", f"at least {MIN_PASSWORD} characters"),
    ("aaaaaaaaaaaaaaaaaaaa", "repeated or sequential"),
    ("1234567890abcdefgh", "repeated or sequential"),
    ("qwertyuiopasdfghjkl", "repeated or sequential"),
    ("abcabcabcabcabcabc", "repeated or sequential"),
    ("1q2w3e4r5t6y7u8i9o0p", "repeated or sequential"),
    ("passwordpassword", "repeated or sequential"),
    ("password12345678", "common or breached"),
    ("Password123456789!", "common or breached"),
    ("iloveyou!!!!!!!!!", "common or breached"),
    ("mlin likes long walks", "your username"),
    ("okafor family holidays", "your name"),
    ("MEI-LIN rides a bicycle", "your name"),
    ("steve knows everything", "practice or of Steve"),
    ("riverside and the river", "practice or of Steve"),
    ("tab\there is not allowed", "control characters"),
    ("x" * 10 + "yz" * (MAX_PASSWORD // 2), f"at most {MAX_PASSWORD} characters"),
]


@pytest.mark.parametrize(("password", "rule"), REFUSED)
def test_the_policy_names_the_rule_a_password_breaks(password: str, rule: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(rule)) as info:
        check_password(password, context=CONTEXT)
    assert password not in str(info.value)


@pytest.mark.parametrize(
    "password",
    [
        "plum orchard in late august",
        "Über den Wolken, 1978 — ja!",
        "猫はこたつで丸くなる日曜日の午後",
        "zk8#Lq2m Vr9!pT4w",
        "w" + "ord by word by " * 4,  # 64 characters: NIST asks that at least 64 be allowed
        "x7" + "".join(chr(0x3041 + (i * 7) % 80) for i in range(MAX_PASSWORD - 2)),
    ],
)
def test_passphrases_spaces_unicode_and_long_passwords_are_accepted(password: str) -> None:
    assert check_password(password, context=CONTEXT)


def test_passwords_are_nfkc_normalised_so_either_form_logs_in(session) -> None:
    person = factories.practitioner(session, discipline=Discipline.PHYSICIAN)
    assert person.id is not None
    ligature = "\ufb01sh and chips on friday"  # "ﬁsh": one code point, NFKC "fi"
    create_user(session=session, username="fisher", practitioner_id=person.id, password=ligature)
    for typed in (ligature, "fish and chips on friday"):
        assert authenticate(session=session, username="fisher", password=typed, **LOCK)


def test_create_user_applies_the_policy_with_the_persons_context(session) -> None:
    person = factories.practitioner(session, name="Ruth Ellison")
    assert person.id is not None
    for password, rule in [("aaaaaaaaaaaaaaaa", "repeated"), ("ellison's own secret", "name")]:
        with pytest.raises(InvalidInput, match=rule):
            create_user(
                session=session, username="ruth", practitioner_id=person.id, password=password
            )
    assert session.exec(select(User)).all() == []


def test_a_change_needs_the_current_password_and_ends_the_web_sessions(session) -> None:
    person = factories.practitioner(session, discipline=Discipline.PHYSICIAN)
    assert person.id is not None
    user = create_user(
        session=session, username="doc", practitioner_id=person.id, password=PASSWORD
    )
    assert user.id is not None
    token = create_token(session=session, user_id=user.id, name="script")
    for _ in range(2):
        start_session(session=session, user_id=user.id)
    with pytest.raises(WrongPassword):
        change_password(
            session=session,
            user_id=user.id,
            current_password="not my password at all",
            new_password=NEW,
            **LOCK,
        )
    assert user.failed_logins == 1  # counts towards the lock-out like a failed login
    with pytest.raises(InvalidInput, match="differ"):
        change_password(
            session=session,
            user_id=user.id,
            current_password=PASSWORD,
            new_password=PASSWORD,
            **LOCK,
        )
    ended = change_password(
        session=session, user_id=user.id, current_password=PASSWORD, new_password=NEW, **LOCK
    )
    assert ended == 2 and session.exec(select(WebSession)).all() == []
    assert authenticate(session=session, username="doc", password=NEW, **LOCK)
    assert verify_token(session=session, secret=token.secret) == user  # tokens stay (documented)


def test_a_password_set_under_the_old_policy_must_be_changed_at_login(session) -> None:
    from tools.users import _HASHER

    person = factories.practitioner(session, discipline=Discipline.PHYSICIAN)
    assert person.id is not None
    user = create_user(session=session, username="old", practitioner_id=person.id, password=NEW)
    user.password_hash = _HASHER.hash("aaaaaaaaaa")  # accepted before this policy
    session.add(user)
    assert authenticate(session=session, username="old", password="aaaaaaaaaa", **LOCK)
    assert user.must_change_password
    assert user.id is not None
    change_password(
        session=session, user_id=user.id, current_password="aaaaaaaaaa", new_password=NEW, **LOCK
    )
    assert not authenticate(
        session=session, username="old", password=NEW, **LOCK
    ).must_change_password


# ------------------------------------------------------------------ web and API


def _csrf(c: TestClient) -> str:
    me = c.get("/api/me")
    assert me.status_code == 200, me.text
    return str(me.json()["csrf_token"])


def _logged_in(engine: Any, db_url: str, username: str = "physician") -> TestClient:
    c = client(engine, db_url, login_rate_per_minute=100)
    assert web_login(c, username).status_code == 303
    return c


def _password(engine: Any, username: str) -> str:
    with Session(engine) as session:
        return session.exec(select(User).where(User.username == username)).one().password_hash


def test_changing_a_password_without_the_current_one_is_refused(engine, db_url) -> None:
    build_team(engine, roles=("physician",))
    c = _logged_in(engine, db_url)
    csrf, before = _csrf(c), _password(engine, "physician")
    form = {"csrf_token": csrf, "new_password": NEW, "repeat": NEW}
    missing = c.post("/password", data=form)
    assert missing.status_code == 422
    wrong = c.post("/password", data={**form, "current_password": "a wrong guess here"})
    assert wrong.status_code == 422 and "current password is not correct" in wrong.text
    api = c.post("/api/me/password", json={"new_password": NEW}, headers={"X-CSRF-Token": csrf})
    assert api.status_code == 422 and "current_password" in api.json()["error"]["message"]
    weak = c.post("/password", data={**form, "current_password": PASSWORD} | {"new_password": "a"})
    assert weak.status_code == 422  # the two differ
    common = "password12345678"
    bad = {**form, "current_password": PASSWORD, "new_password": common, "repeat": common}
    refused = c.post("/password", data=bad)
    assert refused.status_code == 422 and "common or breached" in refused.text
    assert common not in refused.text
    assert _password(engine, "physician") == before  # nothing changed
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "physician")).one()
        assert user.failed_logins == 1  # the wrong current password was counted and kept


def test_a_change_ends_every_other_session_and_renews_this_one(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    mine, other = _logged_in(engine, db_url), _logged_in(engine, db_url)
    old_cookie = mine.cookies.get("steve_session")
    assert other.get("/api/me").status_code == 200
    done = mine.post(
        "/password",
        data={
            "csrf_token": _csrf(mine),
            "current_password": PASSWORD,
            "new_password": NEW,
            "repeat": NEW,
        },
        follow_redirects=False,
    )
    assert other.get("/api/me").status_code == 401  # the other browser is logged out
    assert done.status_code == 303 and done.headers["location"].startswith("/?flash=")
    new_cookie = mine.cookies.get("steve_session")
    assert new_cookie and new_cookie != old_cookie  # this browser got a fresh session
    assert mine.get("/api/me").status_code == 200
    stale = client(engine, db_url)
    stale.cookies.set("steve_session", str(old_cookie))
    assert stale.get("/api/me").status_code == 401
    assert "Password changed." in mine.get("/?flash=Password%20changed.").text
    assert web_login(client(engine, db_url), "physician", NEW).status_code == 303
    bearer = client(engine, db_url).get("/api/tasks/mine", headers=team.auth("physician"))
    assert bearer.status_code == 200  # tokens are not web sessions (see app.api.routes.account)


def test_the_api_change_renews_a_cookie_session_and_ends_the_others(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    mine, other = _logged_in(engine, db_url), _logged_in(engine, db_url)
    r = mine.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers={"X-CSRF-Token": _csrf(mine)},
    )
    assert r.status_code == 200, r.text
    assert r.json()["web_sessions_ended"] == 2 and r.json()["csrf_token"]
    assert other.get("/api/me").status_code == 401
    assert mine.get("/api/me").json()["csrf_token"] == r.json()["csrf_token"]
    by_token = client(engine, db_url).post(
        "/api/me/password",
        json={"current_password": NEW, "new_password": PASSWORD},
        headers=team.auth("physician"),
    )
    assert by_token.status_code == 200 and by_token.json()["csrf_token"] is None
    assert mine.get("/api/me").status_code == 401


# ------------------------------------------------------- must_change_password


def _must_change(engine: Any, team: Team, role: str) -> None:
    with Session(engine) as session:
        user = session.get(User, team.users[role])
        assert user is not None
        user.must_change_password = True
        session.add(user)
        session.commit()


ALLOWED = {("GET", "/api/me"), ("POST", "/api/me/password")}
# Open to anyone by design: log-in/out, the password page, the API description and docs,
# and /health (scheduler state for monitors: no login, no patient data).
OPEN = ("/login", "/logout", "/password", "/openapi.json", "/docs", "/redoc", "/health")


def _flatten(routes: list[Any]) -> list[Any]:
    """The routes, with included routers opened (FastAPI keeps those as one entry each;
    our routers carry their own prefix, so their routes' paths are complete)."""
    out = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        out += _flatten(inner.routes) if inner is not None else [route]
    return out


def _every_route(c: TestClient) -> list[tuple[str, str]]:
    """Every authenticated operation of the app (API and web), path ids filled in."""
    out = []
    for route in _flatten(c.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or route.path.startswith(OPEN):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        out += [(m, path) for m in sorted(route.methods) if m != "HEAD"]
    return out


def _pending(c: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    return c.request(method, path, headers=headers, follow_redirects=False)


def test_must_change_password_refuses_every_request_but_the_change(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    _must_change(engine, team, "physician")
    c = _logged_in(engine, db_url)
    me = c.get("/api/me").json()
    # The report's two examples, with real ids: a briefing and the task form.
    p = team.practice
    assert c.get(f"/api/briefings/patient/{p.patient}").status_code == 403
    form = {"csrf_token": me["csrf_token"], "title": "sneaky", "assignee_id": str(p.physician)}
    assert c.post("/tasks", data=form, follow_redirects=False).status_code == 403
    with Session(engine) as session:
        assert session.exec(select(Task).where(Task.title == "sneaky")).all() == []
    # And every other operation, with the session cookie and with a bearer token.
    cookie = {"X-CSRF-Token": me["csrf_token"]}
    routes = _every_route(c)
    assert len(routes) > 30
    checked, bearer = 0, client(engine, db_url)
    for method, path in routes:
        if (method, path) in ALLOWED:
            continue
        for who, headers in ((c, cookie), (bearer, team.auth("physician"))):
            r = _pending(who, method, path, headers)
            if path.startswith("/api/"):
                assert r.status_code == 403, (method, path, r.status_code)
                assert r.json()["error"]["code"] == "password_change_required"
                assert "change your password" in r.json()["error"]["message"]
            elif method == "GET":
                assert (r.status_code, r.headers.get("location")) == (303, "/password"), path
            else:
                assert r.status_code == 403, (method, path, r.status_code)
            checked += 1
    assert checked > 60
    assert me["must_change_password"] is True
    assert c.get("/static/app.css").status_code == 200
    assert c.get("/password").status_code == 200


def test_after_the_change_everything_works_again(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    _must_change(engine, team, "physician")
    c = _logged_in(engine, db_url)
    bearer = client(engine, db_url)
    assert bearer.get("/api/tasks/mine", headers=team.auth("physician")).status_code == 403
    r = c.post(
        "/password",
        data={
            "csrf_token": _csrf(c),
            "current_password": PASSWORD,
            "new_password": NEW,
            "repeat": NEW,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert c.get(f"/api/briefings/patient/{team.practice.patient}").status_code == 200
    assert c.get("/api/me").json()["must_change_password"] is False
    assert bearer.get("/api/tasks/mine", headers=team.auth("physician")).status_code == 200


def test_logout_works_while_a_change_is_pending(engine, db_url) -> None:
    team = build_team(engine, roles=("physician",))
    _must_change(engine, team, "physician")
    c = _logged_in(engine, db_url)
    form = c.get("/password").text  # the page's own log-out form carries the CSRF token
    csrf = re.search(r'action="/logout".*?name="csrf_token" value="([^"]+)"', form, re.S)
    assert csrf is not None and csrf.group(1) == _csrf(c)
    out = c.post("/logout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert c.get("/api/me").status_code == 401


# ------------------------------------------------------------------------ CLI


def test_cli_reset_password_gives_a_one_time_password_and_ends_sessions(tmp_path) -> None:
    from tests.support.cli import practice_engine, run

    assert run("init", "--no-admin").exit_code == 0
    engine = practice_engine()
    with Session(engine) as session:
        doc = factories.practitioner(session, name="Dr Who", discipline=Discipline.PHYSICIAN)
        assert doc.id is not None
        user = create_user(session=session, username="who", practitioner_id=doc.id, password=NEW)
        assert user.id is not None
        start_session(session=session, user_id=user.id)
        session.commit()
    result = run("users", "reset-password", "who", "--json")
    assert result.exit_code == 0, result.output
    one_time = json.loads(result.stdout)["one_time_password"]
    assert len(one_time) >= MIN_PASSWORD
    with Session(engine) as session:
        found = session.exec(select(User).where(User.username == "who")).one()
        assert found.must_change_password
        assert session.exec(select(WebSession)).all() == []
        assert authenticate(session=session, username="who", password=one_time, **LOCK)
        with pytest.raises(Exception, match="invalid username or password"):
            authenticate(session=session, username="who", password=NEW, **LOCK)
    engine.dispose()
