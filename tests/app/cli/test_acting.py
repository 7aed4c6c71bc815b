"""`steve ... --by/--as/--for/--physician`: the person named acts under tools.access, as an
API user would. A refusal exits non-zero with one line, writes nothing but its audit row
(actor practitioner:N, action denied, origin cli), and the permitted person still succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from db.models import (
    AuditEvent,
    ClinicalProtocol,
    Preference,
    ProtocolReview,
    Referral,
    ReviewStatus,
    Task,
    WatchTopic,
)
from tests.support.api import Records, add_records, build_team
from tests.support.chat import Practice
from tests.support.cli import run, run_json


@pytest.fixture
def world(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The chat helpers' practice (physician Dr Quinn, acupuncturist Lee Acu working in Ada's
    programme only, reception Sam Desk, external Dr Gut) with a task, a referral and an open
    protocol review; the CLI points at the same database."""
    monkeypatch.setenv("STEVE_DATABASE_URL", db_url)
    team = build_team(engine, roles=())
    return {"p": team.practice, "r": add_records(engine, team), "engine": engine}


def _counts(engine: Engine) -> dict[str, int]:
    """Rows per table a refused command could have written (the denial rows apart)."""
    with Session(engine) as s:
        out = {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (Task, Preference, WatchTopic)
        }
        out["audit"] = s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action != "denied")
        ).one()
        return out


def _denials(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.action == "denied")).all()
        return list(rows)


def _review(engine: Engine, review_id: int) -> tuple[ProtocolReview, ClinicalProtocol]:
    with Session(engine) as s:
        review = s.get(ProtocolReview, review_id)
        assert review is not None
        protocol = s.get(ClinicalProtocol, review.protocol_id)
        assert protocol is not None
        return review, protocol


@pytest.mark.parametrize("who", ["Lee Acu", "Sam Desk", "Dr Gut"])
def test_only_a_physician_acknowledges_a_protocol_review(world, who: str) -> None:
    engine, r = world["engine"], world["r"]
    before = _counts(engine)
    refused = run("protocols", "ack", str(r.review), "--by", who)
    assert refused.exit_code != 0
    assert refused.stderr.count("\n") == 1 and "error:" in refused.stderr
    review, protocol = _review(engine, r.review)
    assert review.status == ReviewStatus.OPEN and review.acknowledged_by_id is None
    assert protocol.last_reviewed_on is None
    assert _counts(engine) == before  # nothing written but the denial
    [denial] = _denials(engine)
    assert denial.actor.startswith("practitioner:") and denial.origin == "cli"
    assert denial.entity == "protocol_review"
    snooze = run("protocols", "snooze", str(r.review), "--until", "2099-01-01", "--by", who)
    assert snooze.exit_code != 0 and _review(engine, r.review)[0].status == ReviewStatus.OPEN
    assert len(_denials(engine)) == 2


def test_acknowledged_review_is_no_longer_shown_as_due(world) -> None:
    engine, r = world["engine"], world["r"]
    due = run_json("protocols", "show", str(r.review))
    assert "Protocol review due" in due["markdown"]
    ok = run("protocols", "ack", str(r.review), "--by", "Dr Quinn")
    assert ok.exit_code == 0, ok.stderr
    review, protocol = _review(engine, r.review)
    assert review.status == ReviewStatus.ACKNOWLEDGED
    assert review.acknowledged_by_id == world["p"].physician
    with Session(engine) as s:
        acks = s.exec(select(AuditEvent).where(AuditEvent.action == "acknowledge")).all()
        assert [a.actor for a in acks] == [f"practitioner:{world['p'].physician}"]
    shown = run_json("protocols", "show", str(r.review))["markdown"]
    assert "review due" not in shown.lower() and "interval passed" not in shown
    assert "acknowledged" in shown.lower()
    assert f"last reviewed {protocol.last_reviewed_on}" in shown
    assert str(r.review) not in [str(x["review_id"]) for x in run_json("protocols", "due")]


def _task_about(p: Practice, patient: int) -> list[str]:
    return ["tasks", "add", "Call back", "--assignee", "Sam Desk", "--patient", str(patient)]


# (command, who is refused, the patient the denial names or None, what it must not change)
Refusal = tuple[Callable[[Practice, Records], list[str]], str, Callable[[Practice], int | None]]
REFUSALS: dict[str, Refusal] = {
    "tasks add, external": (
        lambda p, r: [*_task_about(p, p.patient), "--by", "Dr Gut"],
        "Dr Gut",
        lambda p: p.patient,
    ),
    "tasks add, patient out of scope": (
        lambda p, r: [*_task_about(p, p.other_patient), "--by", "Lee Acu"],
        "Lee Acu",
        lambda p: p.other_patient,
    ),
    "tasks mine, external": (lambda p, r: ["tasks", "mine", "--as", "Dr Gut"], "Dr Gut", None),
    "tasks list, external": (lambda p, r: ["tasks", "list", "--as", "Dr Gut"], "Dr Gut", None),
    "tasks done, external": (
        lambda p, r: ["tasks", "done", str(r.task), "--by", "Dr Gut"],
        "Dr Gut",
        None,
    ),
    "tasks assign, external": (
        lambda p, r: ["tasks", "assign", str(r.task), "--to", "Sam Desk", "--by", "Dr Gut"],
        "Dr Gut",
        None,
    ),
    "preferences add, staff": (
        lambda p, r: ["preferences", "add", "labs first", "--for", "Sam Desk"],
        "Sam Desk",
        None,
    ),
    "preferences list, external": (
        lambda p, r: ["preferences", "list", "--for", "Dr Gut"],
        "Dr Gut",
        None,
    ),
    "digest, staff": (
        lambda p, r: ["literature", "digest", "--physician", "Sam Desk", "--week", "2030-01-07"],
        "Sam Desk",
        None,
    ),
    "interest, staff": (
        lambda p, r: [
            "literature",
            *("interest", "--physician", "Sam Desk", "--name", "x", "--condition", "y"),
        ],
        "Sam Desk",
        None,
    ),
    "referral closed with a note, staff": (
        lambda p, r: [
            *("referrals", "advance", str(r.referral), "sent", "--note", "n"),
            *("--by", "Sam Desk"),
        ],
        "Sam Desk",
        lambda p: p.patient,
    ),
    "referral advance, external": (
        lambda p, r: ["referrals", "advance", str(r.referral), "sent", "--by", "Dr Gut"],
        "Dr Gut",
        lambda p: p.patient,
    ),
    "chat, external": (
        lambda p, r: ["chat", "--as", "Dr Gut", "--message", "hello"],
        "Dr Gut",
        None,
    ),
}


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_acting_as_someone_applies_the_policy(world, case: str) -> None:
    engine, p, r = world["engine"], world["p"], world["r"]
    args, who, patient = REFUSALS[case]
    with Session(engine) as s:
        referral_before = s.get(Referral, r.referral)
        task_before = s.get(Task, r.task)
    before = _counts(engine)
    result = run(*args(p, r))
    assert result.exit_code != 0, result.stdout
    assert result.stderr.count("\n") == 1 and "error:" in result.stderr
    assert _counts(engine) == before
    with Session(engine) as s:
        assert s.get(Referral, r.referral) == referral_before
        assert s.get(Task, r.task) == task_before
    [denial] = _denials(engine)
    person = {"Dr Gut": p.external, "Lee Acu": p.acupuncturist, "Sam Desk": p.staff}[who]
    assert denial.actor == f"practitioner:{person}" and denial.origin == "cli"
    assert denial.patient_id == (patient(p) if patient else None)


def test_the_permitted_person_still_acts(world) -> None:
    p, r = world["p"], world["r"]
    made = run_json(*_task_about(p, p.patient), "--by", "Lee Acu")  # Ada is in Lee's programme
    assert made["created_by_id"] == p.acupuncturist
    assert run_json("tasks", "done", str(made["id"]), "--by", "Sam Desk")["status"] == "done"
    pref = run_json("preferences", "add", "labs first", "--for", "Dr Quinn")
    assert pref["practitioner_id"] == p.physician
    sent = run_json("referrals", "advance", str(r.referral), "sent", "--by", "Sam Desk")
    assert sent["status"] == "sent"
    with Session(world["engine"]) as s:
        rows = s.exec(
            select(AuditEvent).where(
                AuditEvent.entity == "task", AuditEvent.entity_id == made["id"]
            )
        ).all()
        actors = {a.actor for a in rows if a.action in ("create", "complete")}
        assert actors == {f"practitioner:{p.acupuncturist}", f"practitioner:{p.staff}"}
    assert _denials(world["engine"]) == []
