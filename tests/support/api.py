"""A small practice with one user per role, tokens for each, and an API test client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from fastapi.testclient import TestClient
from langgraph.checkpoint.memory import InMemorySaver
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.api import create_app
from app.settings import Settings
from db.models import AuditEvent
from tests.support.chat import Practice, build_practice
from tools import users as user_accounts
from tools.access import Role
from tools.users import create_token, create_user

PASSWORD = "correct horse battery"


class _HashOnce:
    """The accounts' argon2 hasher, hashing each password once per process: a team's users
    all get the same genuine argon2id hash of PASSWORD (logins still verify it for real),
    instead of 0.2 s of CPU per user in hundreds of tests that are not about hashing."""

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher

    def hash(self, password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = self._hasher.hash(password)
        return _HASHES[password]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hasher, name)


_HASHES: dict[str, str] = {}


@dataclass
class Team:
    practice: Practice
    users: dict[str, int] = field(default_factory=dict)  # role -> user id
    tokens: dict[str, str] = field(default_factory=dict)  # role -> bearer secret
    admin_practitioner: int = 0

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_team(engine: Engine, roles: tuple[str, ...] | None = None) -> Team:
    """The chat helpers' practice, plus users: physician, practitioner (the acupuncturist,
    who works in one patient's programme), staff (reception) and admin, each with a token."""
    hasher = _HashOnce(user_accounts._HASHER)
    with (
        Session(engine, expire_on_commit=False) as session,
        mock.patch.object(user_accounts, "_HASHER", hasher),
    ):
        practice = build_practice(session)
        from tools.users import create_admin_practitioner

        admin_pid = create_admin_practitioner(session=session)
        people = {
            "physician": (practice.physician, None),
            "practitioner": (practice.acupuncturist, None),
            "nutritionist": (practice.nutritionist, None),
            "staff": (practice.staff, None),
            "admin": (admin_pid, Role.ADMIN),
        }
        team = Team(practice=practice, admin_practitioner=admin_pid)
        for role, (pid, explicit) in people.items():
            if roles is not None and role not in roles:
                continue  # only the users a test needs
            user = create_user(
                session=session,
                username=role,
                practitioner_id=pid,
                password=PASSWORD,
                role=explicit,
            )
            assert user.id is not None
            team.users[role] = user.id
            team.tokens[role] = create_token(session=session, user_id=user.id, name="t").secret
        session.commit()
    return team


def settings_for(db_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=db_url, **overrides)


def client(
    engine: Engine, db_url: str, *, model: Any = None, checkpointer: Any = None, **overrides: Any
) -> TestClient:
    app = create_app(
        settings_for(db_url, **overrides),
        engine=engine,
        model_factory=lambda: model,
        checkpointer=checkpointer or InMemorySaver(),
    )
    return TestClient(app, raise_server_exceptions=False)


def audit_rows(engine: Engine, **where: Any) -> list[AuditEvent]:
    with Session(engine) as session:
        stmt = select(AuditEvent)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return list(session.exec(stmt.order_by(AuditEvent.id)).all())  # type: ignore[arg-type]


def web_login(c: TestClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the form (with its CSRF cookie); returns the final response."""
    import re

    form = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return c.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )


@dataclass
class Records:
    task: int  # about the patient, assigned to the physician
    referral: int  # a draft, for the patient, to the external specialist
    review: int  # an open protocol review
    digest: int  # a stored research digest


def add_records(engine: Engine, team: Team) -> Records:
    from datetime import date

    from db.models import (
        ClinicalProtocol,
        ProtocolReview,
        ReferralCreate,
        ReferralDirection,
        ReviewReason,
        TaskCreate,
    )
    from tools.generated_documents import save_document
    from tools.referrals import create_referral
    from tools.tasks import create_task

    p = team.practice
    with Session(engine, expire_on_commit=False) as session:
        task = create_task(
            session=session,
            data=TaskCreate(
                title="Chase the stool test",
                assignee_id=p.physician,
                patient_id=p.patient,
                created_by_id=p.physician,
            ),
        )
        referral = create_referral(
            session=session,
            data=ReferralCreate(
                direction=ReferralDirection.OUTBOUND,
                patient_id=p.patient,
                from_practitioner_id=p.physician,
                to_practitioner_id=p.external,
                reason="persistent bloating",
            ),
        )
        protocol = ClinicalProtocol(
            title="IBS", condition="irritable bowel syndrome", owner_id=p.physician
        )
        session.add(protocol)
        session.flush()
        review = ProtocolReview(protocol_id=protocol.id, reason=ReviewReason.INTERVAL)
        session.add(review)
        from db.models import Article

        session.add(
            Article(
                pmid="123",
                title="Bloating and fibre: a trial",
                title_key="bloating and fibre a trial",
                abstract="CONCLUSIONS: Fibre helped.",
            )
        )
        doc = save_document(
            session=session,
            kind="digest",
            key=f"2030-W02:{p.physician}",
            title="Research digest, week of 2030-01-07",
            markdown="# Digest\\n",
            practitioner_id=p.physician,
            for_date=date(2030, 1, 7),
        )
        session.commit()
        ids = (task.id, referral.id, review.id, doc.id)
    assert all(i is not None for i in ids)
    return Records(*ids)  # type: ignore[arg-type]
