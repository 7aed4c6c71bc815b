"""Input the API (and the operations under it) must refuse with a clear 422, never a 500 or
a silent guess: ids past what the database holds, days whose arithmetic overflows, NUL and
control characters in free text, JSON `true` as an id, and tasks for external practitioners.

Each 422 names the field and the rule, and never echoes what was sent (it may be patient
data). Runs on SQLite and PostgreSQL (NUL is a 500 only on PostgreSQL).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from db.models import Task, TaskCreate
from tests.support.api import add_records, build_team, client
from tools.clock import local_day_bounds, parse_date, parse_local_datetime
from tools.errors import InvalidInput
from tools.scheduling import free_slots
from tools.tasks import assign_task, create_task

HUGE = "99999999999999999999"  # past int64
PAST_INT32 = str(2**31)  # past the id columns (PostgreSQL int4)
BAD_IDS = (HUGE, PAST_INT32, "0", "-1")
BAD_DAYS = ("9999-12-31", "0001-01-01", "0", "2026-02-30")


@pytest.fixture
def setup(engine: Engine, db_url: str) -> Any:
    team = build_team(engine, roles=("physician", "admin"))
    records = add_records(engine, team)
    return team, records, client(engine, db_url)


def _refused(response: Any, field: str) -> str:
    assert response.status_code == 422, (response.status_code, response.text)
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["message"], error["message"]
    return str(error["message"])


def _tasks(engine: Engine) -> list[Task]:
    with Session(engine) as s:
        return list(s.exec(select(Task)).all())


# ------------------------------------------------------------------------- ids

PATH_IDS = [
    ("GET", "/api/briefings/patient/{id}", None, "patient_id"),
    ("POST", "/api/tasks/{id}/complete", None, "task_id"),
    ("POST", "/api/tasks/{id}/assign", {"assignee_id": 1}, "task_id"),
    ("POST", "/api/referrals/{id}/advance", {"to_status": "sent"}, "referral_id"),
    ("POST", "/api/schedule/appointments/{id}/cancel", {}, "appointment_id"),
    ("GET", "/api/digests/{id}", None, "digest_id"),
    ("POST", "/api/reviews/{id}/ack", None, "review_id"),
    ("POST", "/api/reviews/{id}/snooze", {"until": "2100-01-01"}, "review_id"),
]
QUERY_IDS = [
    ("/api/tasks?assignee_id={id}", "assignee_id"),
    ("/api/tasks?patient_id={id}", "patient_id"),
    ("/api/referrals?patient_id={id}", "patient_id"),
    ("/api/schedule/day?practitioner_id={id}", "practitioner_id"),
    ("/api/schedule/slots?date=2030-01-08&practitioner_id={id}", "practitioner_id"),
    ("/api/digests?physician_id={id}", "physician_id"),
    ("/api/briefings/day?physician_id={id}&summary=true", "physician_id"),
    ("/api/briefings/patient/1?physician_id={id}", "physician_id"),
]


def test_ids_out_of_range_are_422_naming_the_field(setup: Any) -> None:
    team, _, c = setup
    auth = team.auth("physician")
    for bad in BAD_IDS:
        for method, path, body, field in PATH_IDS:
            r = c.request(method, path.format(id=bad), json=body, headers=auth)
            _refused(r, field)
        for path, field in QUERY_IDS:
            _refused(c.get(path.format(id=bad), headers=auth), field)
        audit = c.get(f"/api/audit?patient_id={bad}", headers=team.auth("admin"))
        _refused(audit, "patient_id")


def test_body_ids_are_strict_bounded_whole_numbers(setup: Any, engine: Engine) -> None:
    team, records, c = setup
    before = len(_tasks(engine))
    for bad in (True, False, "1", 1.0, 2**31, 2**64, 0, None):
        _body_id_refused(team, records, c, bad)
    assert len(_tasks(engine)) == before  # nothing written
    with Session(engine) as s:
        task = s.get(Task, records.task)
        assert task is not None and task.assignee_id == team.practice.physician


def _body_id_refused(team: Any, records: Any, c: Any, bad: object) -> None:
    p = team.practice
    auth = team.auth("physician")
    new = {"title": "Chase the report", "assignee_id": bad}
    _refused(c.post("/api/tasks", json=new, headers=auth), "assignee_id")
    about = {"title": "Chase the report", "assignee_id": p.physician, "patient_id": bad}
    if bad is not None:  # no patient is allowed
        _refused(c.post("/api/tasks", json=about, headers=auth), "patient_id")
    again = c.post(f"/api/tasks/{records.task}/assign", json={"assignee_id": bad}, headers=auth)
    _refused(again, "assignee_id")
    booking = {"patient_id": p.patient, "practitioner_id": bad, "start": "2030-01-08 11:00"}
    _refused(c.post("/api/schedule/appointments", json=booking, headers=auth), "practitioner_id")


# ------------------------------------------------------------------------ days

DAY_PATHS = [
    "/api/schedule/day?date={day}",
    "/api/schedule/slots?practitioner_id={physician}&date={day}",
    "/api/briefings/day?date={day}&summary=true",
    "/api/briefings/day?date={day}",
    "/api/briefings/patient/{patient}?date={day}",
]


def test_days_outside_1900_to_2100_or_not_iso_are_422(setup: Any) -> None:
    team, records, c = setup
    for day in BAD_DAYS:
        _day_refused(team, records, c, day)


def _day_refused(team: Any, records: Any, c: Any, day: str) -> None:
    p = team.practice
    auth = team.auth("physician")
    for path in DAY_PATHS:
        url = path.format(day=day, physician=p.physician, patient=p.patient)
        _refused(c.get(url, headers=auth), "date")
    new = {"title": "Chase", "assignee_id": p.physician, "due_on": day}
    _refused(c.post("/api/tasks", json=new, headers=auth), "due_on")
    snooze = c.post(f"/api/reviews/{records.review}/snooze", json={"until": day}, headers=auth)
    _refused(snooze, "until")
    booking = {"patient_id": p.patient, "practitioner_id": p.physician, "start": f"{day} 10:00"}
    _refused(c.post("/api/schedule/appointments", json=booking, headers=auth), "start")


def test_the_edges_of_the_range_are_served(setup: Any) -> None:
    team, _, c = setup
    auth = team.auth("physician")
    for day in ("1900-01-01", "2100-12-31"):
        for path in DAY_PATHS[:3]:
            url = path.format(day=day, physician=team.practice.physician, patient=0)
            r = c.get(url, headers=auth)
            assert r.status_code == 200, (url, r.text)


def test_day_arithmetic_never_overflows_below_the_api() -> None:
    """The CLI and the chat tools reach the same operations without the API's types."""
    tz = ZoneInfo("Pacific/Kiritimati")  # UTC+14: date.max's evening is past datetime.max
    for day in (date.max, date.min, date(2101, 1, 1), date(1899, 12, 31)):
        with pytest.raises(InvalidInput, match="between 1900-01-01 and 2100-12-31"):
            local_day_bounds(day, tz)
    for text in ("9999-12-31", "0001-01-01"):
        with pytest.raises(InvalidInput, match="between"):
            parse_date(text)
        with pytest.raises(InvalidInput, match="between"):
            parse_local_datetime(f"{text} 23:00", tz)


def test_free_slots_on_the_last_day_is_invalid_input_not_overflow(session: Session) -> None:
    from tests.support import factories

    doc = factories.practitioner(session, name="Dr Edge").id
    assert doc is not None
    with pytest.raises(InvalidInput):
        free_slots(
            session=session,
            practitioner_id=doc,
            day=date.max,
            duration_minutes=30,
            tz=ZoneInfo("Europe/London"),
        )


# ------------------------------------------------------------------- free text

NUL_TEXT = "Call Ada Lovelace\x00 re results"


def test_nul_and_control_characters_in_text_are_422_and_not_echoed(
    setup: Any, engine: Engine
) -> None:
    team, records, c = setup
    p = team.practice
    auth = team.auth("physician")
    before = len(_tasks(engine))
    cases = [
        ("/api/tasks", {"title": NUL_TEXT, "assignee_id": p.physician}, "title"),
        ("/api/tasks", {"title": "Ring the lab\x1b[2J", "assignee_id": p.physician}, "title"),
        (
            "/api/tasks",
            {"title": "Chase", "details": NUL_TEXT, "assignee_id": p.physician},
            "details",
        ),
        (
            f"/api/referrals/{records.referral}/advance",
            {"to_status": "sent", "note": NUL_TEXT},
            "note",
        ),
        (
            "/api/schedule/appointments",
            {
                "patient_id": p.patient,
                "practitioner_id": p.physician,
                "start": "2030-01-08 11:00",
                "service_type": NUL_TEXT,
            },
            "service_type",
        ),
        (f"/api/schedule/appointments/{p.appointment}/cancel", {"reason": NUL_TEXT}, "reason"),
    ]
    for path, body, field in cases:
        message = _refused(c.post(path, json=body, headers=auth), field)
        assert "Lovelace" not in message and "\x00" not in message
    audit = c.get("/api/audit", params={"actor": NUL_TEXT}, headers=team.auth("admin"))
    assert "Lovelace" not in _refused(audit, "actor")
    assert len(_tasks(engine)) == before


def test_multi_line_details_keep_their_newlines(setup: Any) -> None:
    team, _, c = setup
    body = {"title": "Chase", "details": "line one\n\tline two\r\n", "assignee_id": 1}
    body["assignee_id"] = team.practice.physician
    r = c.post("/api/tasks", json=body, headers=team.auth("physician"))
    assert r.status_code == 201, r.text
    assert r.json()["details"] == "line one\n\tline two\r\n"


# --------------------------------------------------------------- task assignees


def test_tasks_cannot_be_given_to_external_practitioners(setup: Any, engine: Engine) -> None:
    team, records, c = setup
    p = team.practice
    auth = team.auth("physician")
    r = c.post("/api/tasks", json={"title": "Chase", "assignee_id": p.external}, headers=auth)
    assert "external" in _refused(r, f"practitioner {p.external}")
    r = c.post(f"/api/tasks/{records.task}/assign", json={"assignee_id": p.external}, headers=auth)
    assert "external" in _refused(r, f"practitioner {p.external}")
    with Session(engine) as s:  # the operation itself refuses: the CLI and chat use it
        with pytest.raises(InvalidInput, match="external"):
            create_task(
                session=s, data=TaskCreate(title="Chase", assignee_id=p.external), actor="t"
            )
        with pytest.raises(InvalidInput, match="external"):
            assign_task(session=s, task_id=records.task, assignee_id=p.external)
        s.rollback()
    with Session(engine) as s:
        task = s.get(Task, records.task)
        assert task is not None and task.assignee_id == p.physician


def test_operations_refuse_what_the_database_cannot_store(session: Session) -> None:
    """The CLI and chat create tasks through the same operation: NUL, an unbounded id and an
    overflowing due date are refused there too, before the database is asked."""
    from tests.support import factories
    from tools.limits import MAX_ID

    doc = factories.practitioner(session, name="Dr Store").id
    assert doc is not None
    bad: list[dict[str, Any]] = [
        {"title": "a\x00b"},
        {"title": "Chase", "details": "x\x00"},
        {"title": "Chase", "patient_id": MAX_ID + 1},
        {"title": "Chase", "due_on": date.max},
    ]
    for extra in bad:
        with pytest.raises(InvalidInput):
            create_task(session=session, data=TaskCreate(assignee_id=doc, **extra))
    with pytest.raises(InvalidInput, match="assignee_id"):
        create_task(session=session, data=TaskCreate(title="Chase", assignee_id=2**64))


# ------------------------------------------------------------- the description


def test_openapi_declares_bounds_and_error_responses(setup: Any) -> None:
    from tools.limits import MAX_ID

    _, _, c = setup
    doc = c.get("/openapi.json").json()
    ops = [
        (path, method, op)
        for path, item in doc["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
    ]
    assert len(ops) == 32
    for path, method, op in ops:
        responses = op["responses"]
        for status in ("401", "503"):
            assert status in responses, (method, path, status)
        for status, response in responses.items():
            if status[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
        for param in op.get("parameters", []):
            if param["name"].endswith("_id") and param["name"] != "thread_id":
                schema = param["schema"]
                options = schema.get("anyOf", [schema])
                ints = [o for o in options if o.get("type") == "integer"]
                assert ints and ints[0]["minimum"] == 1 and ints[0]["maximum"] == MAX_ID, (
                    path,
                    param["name"],
                )
        if "requestBody" in op:
            assert {"400", "413", "422"} <= set(responses), (method, path)


def test_a_value_the_database_refuses_is_422_without_the_value(engine: Engine, db_url: str) -> None:
    """The net under the checks: a value the database refuses (SQLSTATE class 22) that no
    check caught is the request's fault (422), and its text is not echoed."""
    from sqlalchemy.exc import DataError

    c = client(engine, db_url)

    def unstorable() -> None:
        raise DataError("INSERT ...", {"title": NUL_TEXT}, ValueError(NUL_TEXT))

    c.app.add_api_route("/api/unstorable", unstorable)  # type: ignore[attr-defined]
    r = c.get("/api/unstorable")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_input"
    assert "Lovelace" not in r.text


def test_web_pages_apply_the_same_bounds(setup: Any) -> None:
    from tests.support.api import web_login

    _, _, c = setup
    assert web_login(c, "physician").status_code == 303
    for url in (f"/briefing/{HUGE}", "/?date=9999-12-31", f"/research/digest/{PAST_INT32}"):
        r = c.get(url)
        assert r.status_code == 422, (url, r.status_code)
        assert "internal error" not in r.text


def test_web_task_form_refuses_a_malformed_day_or_patient(setup: Any, engine: Engine) -> None:
    """A typed-in due day or patient that is not one is a 422 naming the field: never a 500,
    and never silently dropped (a task would otherwise lose its patient)."""
    from tests.support.api import web_login

    team, _, c = setup
    p = team.practice
    assert web_login(c, "physician").status_code == 303
    csrf = c.get("/api/me").json()["csrf_token"]
    for field, value in (("due_on", "31/12/2026"), ("due_on", "9999-12-31"), ("patient_id", "x1")):
        form = {"csrf_token": csrf, "title": "Typed", "assignee_id": str(p.physician), field: value}
        r = c.post("/tasks", data=form, follow_redirects=False)
        assert r.status_code == 422, (field, value, r.status_code)
        assert field in r.text and value not in r.text
    with Session(engine) as session:
        assert session.exec(select(Task).where(Task.title == "Typed")).all() == []


def test_cli_ids_past_the_id_columns_are_input_errors(db_url: str) -> None:
    """Typer reads any whole number; the database refuses what its columns cannot hold.
    That is bad input (exit 1, one line), not a crash or a database failure."""
    from tests.support.cli import run

    env = {"STEVE_DATABASE_URL": db_url}
    assert run("init", "--no-admin", env=env).exit_code == 0
    for args in (("tasks", "done", HUGE), ("referrals", "advance", HUGE, "sent")):
        result = run(*args, env=env)
        assert result.exit_code == 1, (args, result.exit_code, result.stderr)
        assert "out of range" in result.stderr or "not found" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
