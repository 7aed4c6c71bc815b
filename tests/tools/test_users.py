"""Accounts, passwords with lock-out, API tokens, web sessions, and `steve users` / `init`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db.engine import utcnow
from db.models import Affiliation, ApiToken, Discipline, User, WebSession
from tests.support import factories
from tools.access import Role
from tools.errors import InvalidInput
from tools.users import (
    LoginFailed,
    actor_of,
    authenticate,
    check_session,
    create_token,
    create_user,
    revoke_token,
    set_active,
    start_session,
    verify_token,
)

PW = "a long enough password"
LOCK = {"max_failures": 3, "lockout": timedelta(minutes=15)}


def _user(session: Session, discipline: Discipline = Discipline.PHYSICIAN, **kw) -> User:
    person = factories.practitioner(session, discipline=discipline)
    assert person.id is not None
    return create_user(
        session=session,
        username=kw.pop("username", f"u{person.id}"),
        practitioner_id=person.id,
        password=PW,
        **kw,
    )


def test_passwords_are_stored_as_argon2_hashes_only(session) -> None:
    user = _user(session)
    assert user.password_hash.startswith("$argon2id$")
    assert PW not in user.password_hash
    assert user.role == Role.PHYSICIAN.value


def test_the_role_comes_from_the_practitioner_record_or_is_admin(session) -> None:
    assert _user(session, Discipline.ACUPUNCTURE).role == "practitioner"
    assert _user(session, Discipline.ADMIN).role == "staff"
    assert _user(session, Discipline.ADMIN, role=Role.ADMIN).role == "admin"
    with pytest.raises(InvalidInput, match="their role is staff"):
        _user(session, Discipline.ADMIN, role=Role.PHYSICIAN)
    external = factories.practitioner(session, affiliation=Affiliation.EXTERNAL)
    assert external.id is not None
    with pytest.raises(InvalidInput, match="external"):
        create_user(session=session, username="ext", practitioner_id=external.id, password=PW)


def test_bad_usernames_and_short_passwords_are_refused(session) -> None:
    person = factories.practitioner(session)
    assert person.id is not None
    with pytest.raises(InvalidInput, match="15 characters"):
        create_user(session=session, username="x", practitioner_id=person.id, password="short")
    with pytest.raises(InvalidInput, match="without spaces"):
        create_user(session=session, username="a b", practitioner_id=person.id, password=PW)
    _user(session, username="Dup")
    with pytest.raises(InvalidInput, match="taken"):
        _user(session, username="dup")


def test_login_succeeds_and_resets_the_failure_count(session) -> None:
    user = _user(session, username="doc")
    with pytest.raises(LoginFailed):
        authenticate(session=session, username="doc", password="wrong one!", **LOCK)
    assert user.failed_logins == 1
    assert authenticate(session=session, username="DOC", password=PW, **LOCK).id == user.id
    assert user.failed_logins == 0 and user.last_login_at is not None


def test_repeated_failures_lock_the_account_even_for_the_right_password(session) -> None:
    _user(session, username="doc")
    now = utcnow()
    for _ in range(3):
        with pytest.raises(LoginFailed):
            authenticate(session=session, username="doc", password="nope nope!", now=now, **LOCK)
    with pytest.raises(LoginFailed) as info:
        authenticate(session=session, username="doc", password=PW, now=now, **LOCK)
    assert str(info.value) == "invalid username or password"  # same words: nothing revealed
    later = now + timedelta(minutes=16)
    assert authenticate(session=session, username="doc", password=PW, now=later, **LOCK)


def test_unknown_users_and_disabled_accounts_get_the_same_refusal(session) -> None:
    user = _user(session, username="doc")
    with pytest.raises(LoginFailed, match="invalid username or password"):
        authenticate(session=session, username="nobody", password=PW, **LOCK)
    assert user.id is not None
    set_active(session=session, user_id=user.id, active=False)
    with pytest.raises(LoginFailed, match="invalid username or password"):
        authenticate(session=session, username="doc", password=PW, **LOCK)


def test_tokens_store_only_a_hash_and_stop_working_when_revoked_or_expired(session) -> None:
    user = _user(session)
    assert user.id is not None
    new = create_token(session=session, user_id=user.id, name="script")
    row = session.exec(select(ApiToken)).one()
    assert new.secret not in (row.token_hash, row.prefix) and new.secret.startswith(row.prefix)
    assert verify_token(session=session, secret=new.secret) == user
    assert row.last_used_at is not None
    assert verify_token(session=session, secret=new.secret + "x") is None
    assert verify_token(session=session, secret="not a token") is None
    assert new.token.id is not None
    revoke_token(session=session, token_id=new.token.id)
    assert verify_token(session=session, secret=new.secret) is None
    old = create_token(
        session=session, user_id=user.id, name="old", expires_at=utcnow() - timedelta(seconds=1)
    )
    assert verify_token(session=session, secret=old.secret) is None


def test_disabling_a_user_ends_sessions_and_revokes_tokens(session) -> None:
    user = _user(session)
    assert user.id is not None
    token = create_token(session=session, user_id=user.id, name="t")
    start_session(session=session, user_id=user.id)
    set_active(session=session, user_id=user.id, active=False)
    assert verify_token(session=session, secret=token.secret) is None
    assert session.exec(select(WebSession)).all() == []


def test_sessions_expire_after_inactivity(session) -> None:
    user = _user(session)
    assert user.id is not None
    new = start_session(session=session, user_id=user.id, ip="10.0.0.1")
    idle = timedelta(minutes=30)
    now = utcnow()
    assert check_session(
        session=session, secret=new.secret, idle=idle, now=now + timedelta(minutes=29)
    )
    # Activity moved last_seen on: 29 more minutes are fine again.
    assert check_session(
        session=session, secret=new.secret, idle=idle, now=now + timedelta(minutes=58)
    )
    assert (
        check_session(session=session, secret=new.secret, idle=idle, now=now + timedelta(hours=2))
        is None
    )
    assert session.exec(select(WebSession)).all() == []  # the expired session is gone
    assert check_session(session=session, secret="forged", idle=idle) is None


def test_an_inactive_practitioner_loses_access_at_once(session) -> None:
    from db.models import Practitioner, PractitionerStatus
    from tools.access import AccessDenied

    user = _user(session, Discipline.ACUPUNCTURE)
    person = session.get(Practitioner, user.practitioner_id)
    assert person is not None
    assert actor_of(session=session, user=user).role == Role.PRACTITIONER
    person.status = PractitionerStatus.INACTIVE
    session.add(person)
    with pytest.raises(AccessDenied):
        actor_of(session=session, user=user)


# ------------------------------------------------------------------------ CLI


def test_init_creates_the_first_admin_with_a_one_time_password(tmp_path) -> None:
    from tests.support.cli import run

    result = run("init")
    assert result.exit_code == 0, result.output
    assert "First admin created" in result.output and "one-time password" in result.output
    password = result.output.split("one-time password:")[1].split()[0]
    again = run("init")
    assert "First admin" not in again.output  # only when the practice has no user
    from app.settings import get_settings
    from db.engine import make_engine

    engine = make_engine(get_settings().db_url)
    with Session(engine) as session:
        admin = session.exec(select(User)).one()
        assert admin.role == "admin" and admin.must_change_password
        assert authenticate(session=session, username="admin", password=password, **LOCK)
        for guess in ("admin", "password", "changeme", ""):
            with pytest.raises(LoginFailed):
                authenticate(
                    session=session,
                    username="admin",
                    password=guess,
                    max_failures=100,
                    lockout=timedelta(minutes=1),
                )
    engine.dispose()


def test_users_cli_add_list_token_and_disable(tmp_path) -> None:
    import json

    from tests.support.cli import run

    assert run("init", "--no-admin").exit_code == 0
    from app.settings import get_settings
    from db.engine import make_engine

    engine = make_engine(get_settings().db_url)
    with Session(engine) as session:
        doc = factories.practitioner(session, name="Dr Who", discipline=Discipline.PHYSICIAN)
        session.commit()
        doc_id = doc.id
    engine.dispose()
    added = run("users", "add", "who", "--practitioner", str(doc_id), "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["role"] == "physician"
    listed = json.loads(run("users", "list", "--json").output)
    assert [u["username"] for u in listed] == ["who"]
    token = json.loads(run("users", "token", "create", "who", "--name", "cron", "--json").output)
    assert token["token"].startswith("stv_")
    tokens = run("users", "token", "list", "--json")
    assert token["token"] not in tokens.output  # the secret is never shown again
    assert run("users", "token", "revoke", str(token["id"])).exit_code == 0
    assert run("users", "disable", "who").exit_code == 0
    bad = run("users", "add", "x", "--practitioner", str(doc_id), "--role", "wizard")
    assert bad.exit_code == 1 and "unknown role" in bad.output
