"""User accounts: creation, password login with lock-out, API tokens and web sessions.

Keyword-only functions over a session; they flush, the caller commits. Messages name user
ids and usernames only, never a password or token. Login refusals all read the same
("invalid username or password") so a caller cannot tell which part was wrong, and a login
for an unknown user still hashes once, so timing does not tell either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from db.engine import as_utc, utcnow
from db.models import (
    Affiliation,
    ApiToken,
    Discipline,
    Practitioner,
    PractitionerStatus,
    User,
    WebSession,
)
from tools import audit
from tools.access import AccessDenied, Actor, Role, role_for
from tools.errors import InvalidInput, NotFound, SteveError
from tools.passwords import (
    check_password,
    normalise_password,
    password_context,
)
from tools.registry import get_practitioner

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both paths cost one argon2 hash.

    Made at the first login of the process, whoever logs in (not at import: a hash costs
    a fraction of a second every command would pay), so that login too costs the same
    whether the username exists or not.
    """
    return _HASHER.hash(secrets.token_urlsafe(16))


TOKEN_PREFIX = "stv_"


class LoginFailed(SteveError):
    """Wrong username or password, a locked or disabled account: one message for all."""

    def __init__(self, reason: str = "invalid username or password") -> None:
        super().__init__(reason)


def digest(secret: str) -> str:
    """SHA-256 of a long random secret (tokens, session ids): what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _check_role(role: Role, person: Practitioner) -> None:
    """A user's role is the one their record implies, or admin (granted on purpose)."""
    implied = role_for(person)  # AccessDenied for external or inactive practitioners
    if role not in (implied, Role.ADMIN):
        raise InvalidInput(
            f"practitioner {person.id} is {person.discipline}; their role is {implied.value} "
            "(or admin)"
        )


def create_user(
    *,
    session: Session,
    username: str,
    practitioner_id: int,
    password: str,
    role: Role | None = None,
    must_change_password: bool = False,
    practice_name: str | None = None,
    actor: str = "system",
) -> User:
    name = username.strip().lower()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise InvalidInput("a username is 1 to 80 characters without spaces")
    if session.exec(select(User).where(User.username == name)).first() is not None:
        raise InvalidInput(f"username {name!r} is taken")
    person = get_practitioner(session=session, practitioner_id=practitioner_id)
    try:
        chosen = role or role_for(person)
        _check_role(chosen, person)
    except AccessDenied as exc:
        raise InvalidInput(str(exc)) from None
    context = password_context(username=name, person_name=person.name, practice_name=practice_name)
    user = User(
        username=name,
        practitioner_id=practitioner_id,
        role=chosen.value,
        password_hash=_HASHER.hash(check_password(password, context=context)),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(session=session, actor=actor, action="create", entity="user", entity_id=user.id)
    return user


def create_admin_practitioner(*, session: Session, name: str = "Practice administrator") -> int:
    """An in-house admin-discipline record for the first admin on an empty practice."""
    person = Practitioner(name=name, discipline=Discipline.ADMIN, affiliation=Affiliation.IN_HOUSE)
    session.add(person)
    session.flush()
    assert person.id is not None
    return person.id


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def find_user(*, session: Session, username_or_id: str) -> User:
    text = username_or_id.strip()
    if text.isdigit():
        return get_user(session=session, user_id=int(text))
    user = session.exec(select(User).where(User.username == text.lower())).first()
    if user is None:
        raise InvalidInput(f"no user named {text!r}")
    return user


def list_users(*, session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.id))).all())


def set_active(*, session: Session, user_id: int, active: bool, actor: str = "system") -> User:
    """Disable (or re-enable) an account; disabling also ends its sessions and tokens."""
    user = get_user(session=session, user_id=user_id)
    user.active = active
    session.add(user)
    if not active:
        for s in session.exec(select(WebSession).where(WebSession.user_id == user_id)).all():
            session.delete(s)
        now = utcnow()
        for t in session.exec(
            select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
        ).all():
            t.revoked_at = now
            session.add(t)
    audit.record(
        session=session,
        actor=actor,
        action="enable" if active else "disable",
        entity="user",
        entity_id=user_id,
    )
    session.flush()
    return user


def _end_sessions(*, session: Session, user_id: int) -> int:
    rows = session.exec(select(WebSession).where(WebSession.user_id == user_id)).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def context_of(*, session: Session, user: User, practice_name: str | None = None) -> list[str]:
    """`check_password`'s context words for an existing user."""
    person = session.get(Practitioner, user.practitioner_id)
    return password_context(
        username=user.username,
        person_name=person.name if person is not None else None,
        practice_name=practice_name,
    )


def set_password(
    *,
    session: Session,
    user_id: int,
    password: str,
    practice_name: str | None = None,
    must_change: bool = False,
    actor: str = "system",
) -> int:
    """Set a new password (checked by `check_password`) and end every web session of the
    user (a caller that keeps working starts a new one); returns how many ended. API tokens
    stay: they are separate credentials that only `steve users token` issues.
    `must_change`: an administrator's one-time password, to be replaced at next login."""
    user = get_user(session=session, user_id=user_id)
    text = check_password(
        password, context=context_of(session=session, user=user, practice_name=practice_name)
    )
    user.password_hash = _HASHER.hash(text)
    user.must_change_password = must_change
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    ended = _end_sessions(session=session, user_id=user_id)
    audit.record(session=session, actor=actor, action="password", entity="user", entity_id=user_id)
    session.flush()
    return ended


class WrongPassword(InvalidInput):
    """The current password given to change it was wrong (or the account is locked). The
    failure counts towards the lock-out: the caller commits before answering."""

    def __init__(self) -> None:
        super().__init__(
            "the current password is not correct (repeated failures lock the account for a while)"
        )


def change_password(
    *,
    session: Session,
    user_id: int,
    current_password: str,
    new_password: str,
    max_failures: int,
    lockout: timedelta,
    practice_name: str | None = None,
    now: datetime | None = None,
    actor: str = "system",
) -> int:
    """A user's own change: the new password must meet the policy and differ from the
    current one, which must be given (wrong ones count towards the lock-out like failed
    logins). Ends every web session of the user; returns how many."""
    user = get_user(session=session, user_id=user_id)
    assert user.id is not None
    text = check_password(
        new_password, context=context_of(session=session, user=user, practice_name=practice_name)
    )
    if not _attempt(
        session=session,
        user=user,
        password=current_password,
        max_failures=max_failures,
        lockout=lockout,
        now=now or utcnow(),
        kind="password",
    ):
        raise WrongPassword()
    if _verify(user.password_hash, text):
        raise InvalidInput("the new password must differ from the current one")
    return set_password(
        session=session, user_id=user.id, password=text, practice_name=practice_name, actor=actor
    )


def actor_of(*, session: Session, user: User) -> Actor:
    """The access-policy actor for a user, checked against their practitioner record now
    (a practitioner who left or became external loses access at once)."""
    person = get_practitioner(session=session, practitioner_id=user.practitioner_id)
    if person.status == PractitionerStatus.INACTIVE or person.affiliation != Affiliation.IN_HOUSE:
        raise AccessDenied(f"user {user.id} has no access (practitioner record inactive)")
    assert person.id is not None
    return Actor(person.id, Role(user.role), Discipline(person.discipline))


# ------------------------------------------------------------------ passwords


def _verify(hash_: str, password: str) -> bool:
    try:
        return _HASHER.verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _verify_password(hash_: str, password: str) -> bool:
    """Passwords are hashed NFKC-normalised; one set before that was hashed as typed."""
    text = normalise_password(password)
    return _verify(hash_, text) or (text != password and _verify(hash_, password))


def _attempt(
    *,
    session: Session,
    user: User,
    password: str,
    max_failures: int,
    lockout: timedelta,
    now: datetime,
    kind: str,
) -> bool:
    """Whether `password` is the user's and the account is open; a wrong one counts, and
    after `max_failures` in a row the account locks for `lockout`. Audited as
    `{kind}_failed` / `{kind}_refused`."""
    locked = user.locked_until is not None and as_utc(user.locked_until) > now
    ok = _verify_password(user.password_hash, password)  # always hash: same time locked or not
    label = f"user:{user.id}"
    if locked or not user.active:
        audit.record(
            session=session, actor=label, action=f"{kind}_refused", entity="user", entity_id=user.id
        )
        session.flush()
        return False
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until, user.failed_logins = now + lockout, 0
        session.add(user)
        audit.record(
            session=session, actor=label, action=f"{kind}_failed", entity="user", entity_id=user.id
        )
        session.flush()
        return False
    return True


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    max_failures: int,
    lockout: timedelta,
    now: datetime | None = None,
) -> User:
    """The user for a correct password; LoginFailed otherwise (the caller commits either way,
    so failures count). After `max_failures` in a row the account locks for `lockout`."""
    now = now or utcnow()
    dummy = _dummy_hash()
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        _verify(dummy, password)
        raise LoginFailed()
    if not _attempt(
        session=session,
        user=user,
        password=password,
        max_failures=max_failures,
        lockout=lockout,
        now=now,
        kind="login",
    ):
        raise LoginFailed()
    text = normalise_password(password)
    stale = text != password and not _verify(user.password_hash, text)
    if stale or _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(text)  # new parameters, or hashed before NFKC
    try:
        check_password(password, context=context_of(session=session, user=user))
    except InvalidInput:  # chosen under an older, weaker policy: change it now
        user.must_change_password = True
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    session.add(user)
    audit.record(
        session=session, actor=f"user:{user.id}", action="login", entity="user", entity_id=user.id
    )
    session.flush()
    return user


# --------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(
    *,
    session: Session,
    user_id: int,
    name: str,
    expires_at: datetime | None = None,
    actor: str = "system",
) -> NewToken:
    user = get_user(session=session, user_id=user_id)
    if not user.active:
        raise InvalidInput(f"user {user_id} is disabled")
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user_id,
        name=label,
        prefix=f"{TOKEN_PREFIX}{prefix}",
        token_hash=digest(secret),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session=session, actor=actor, action="create", entity="api_token", entity_id=token.id
    )
    return NewToken(token, secret)


def revoke_token(*, session: Session, token_id: int, actor: str = "system") -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("api token", token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(
            session=session, actor=actor, action="revoke", entity="api_token", entity_id=token_id
        )
        session.flush()
    return token


def list_tokens(*, session: Session, user_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(col(ApiToken.id))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(session.exec(stmt).all())


def verify_token(*, session: Session, secret: str, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None (unknown, forged, revoked, expired)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    wanted = digest(secret)
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == wanted)).first()
    if token is None or not hmac.compare_digest(token.token_hash, wanted):
        return None
    now = now or utcnow()
    if token.revoked_at is not None:
        return None
    if token.expires_at is not None and as_utc(token.expires_at) <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    # Written at most once a minute: a busy script should not turn every read into a write.
    if token.last_used_at is None or now - as_utc(token.last_used_at) > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return user


# -------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class NewSession:
    session: WebSession
    secret: str  # the cookie value; only its digest is stored


def start_session(*, session: Session, user_id: int, ip: str | None = None) -> NewSession:
    secret = secrets.token_urlsafe(32)
    row = WebSession(
        user_id=user_id,
        session_hash=digest(secret),
        csrf_secret=secrets.token_urlsafe(32),
        ip=(ip or "")[:45] or None,
    )
    session.add(row)
    session.flush()
    return NewSession(row, secret)


def check_session(
    *, session: Session, secret: str, idle: timedelta, now: datetime | None = None
) -> tuple[WebSession, User] | None:
    """The live session and its user; an idle-expired session is deleted and gives None."""
    if not secret or len(secret) > 200:
        return None
    now = now or utcnow()
    row = session.exec(select(WebSession).where(WebSession.session_hash == digest(secret))).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or now - as_utc(row.last_seen) > idle:
        session.delete(row)
        session.flush()
        return None
    if now - as_utc(row.last_seen) > timedelta(seconds=30):  # not a write per request
        row.last_seen = now
        session.add(row)
    return row, user


def end_session(*, session: Session, secret: str) -> None:
    row = session.exec(select(WebSession).where(WebSession.session_hash == digest(secret))).first()
    if row is not None:
        session.delete(row)
        session.flush()
