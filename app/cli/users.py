"""`steve users`: accounts for the web app and API, and bearer tokens for scripts."""

from __future__ import annotations

from datetime import timedelta

import typer

from app.cli.common import (
    JSON_OPTION,
    console,
    emit_json,
    handle_errors,
    settings,
    table,
    transaction,
)
from db.engine import utcnow
from db.models import User
from tools.access import Role
from tools.errors import InvalidInput
from tools.passwords import generate_password
from tools.registry import find_practitioner
from tools.users import (
    context_of,
    create_admin_practitioner,
    create_token,
    create_user,
    find_user,
    list_tokens,
    list_users,
    password_context,
    revoke_token,
    set_active,
    set_password,
)

app = typer.Typer(help="User accounts and API tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for scripts.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _role(text: str | None) -> Role | None:
    if text is None:
        return None
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown role {text!r}; use {', '.join(r.value for r in Role)}"
        ) from None


def _row(u: User) -> dict[str, object]:
    return {
        "id": u.id,
        "username": u.username,
        "practitioner_id": u.practitioner_id,
        "role": u.role,
        "active": u.active,
        "locked_until": u.locked_until.isoformat() if u.locked_until else None,
    }


@app.command("add")
@handle_errors
def add(
    username: str = typer.Argument(..., help="Login name."),
    practitioner: str = typer.Option(..., "--practitioner", help="Practitioner id or name."),
    role: str | None = typer.Option(None, "--role", help="admin, or the practitioner's own."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user with a one-time password (printed once; the web app asks for a new one)."""
    practice = settings().practice.name
    with transaction() as session:
        person = find_practitioner(session=session, query=practitioner)
        assert person.id is not None
        password = generate_password(
            context=password_context(
                username=username, person_name=person.name, practice_name=practice
            )
        )
        user = create_user(
            session=session,
            username=username,
            practitioner_id=person.id,
            password=password,
            role=_role(role),
            must_change_password=True,
            practice_name=practice,
            actor="cli",
        )
        row = _row(user)
    if as_json:
        emit_json({**row, "one_time_password": password})
        return
    console.print(f"User {row['username']} ({row['role']}) added. One-time password: {password}")
    console.print("It is shown only now; the web app asks for a new password at first login.")


@app.command("list")
@handle_errors
def list_(as_json: bool = JSON_OPTION) -> None:
    """Every user, with role and state."""
    with transaction() as session:
        rows = [_row(u) for u in list_users(session=session)]
    if as_json:
        emit_json(rows)
        return
    cols = ["id", "username", "practitioner_id", "role", "active", "locked_until"]
    console.print(table("Users", cols, [[r[c] for c in cols] for r in rows]))


@app.command("disable")
@handle_errors
def disable(user: str = typer.Argument(..., help="Username or id.")) -> None:
    """Disable a user: their sessions end and their tokens are revoked."""
    name = _set_active(user, active=False)
    console.print(f"User {name} disabled; sessions ended, tokens revoked.")


@app.command("enable")
@handle_errors
def enable(user: str = typer.Argument(..., help="Username or id.")) -> None:
    """Re-enable a disabled user (their old tokens stay revoked)."""
    name = _set_active(user, active=True)
    console.print(f"User {name} enabled.")


def _set_active(user: str, *, active: bool) -> str:
    """Disable or re-enable a user by name or id; their username."""
    with transaction() as session:
        found = find_user(session=session, username_or_id=user)
        assert found.id is not None
        set_active(session=session, user_id=found.id, active=active, actor="cli")
        return found.username


@app.command("reset-password")
@handle_errors
def reset_password(
    user: str = typer.Argument(..., help="Username or id."), as_json: bool = JSON_OPTION
) -> None:
    """Give a user a new one-time password (printed once): their web sessions end, and
    until they choose their own password at /password (or POST /api/me/password) nothing
    else works for them, their bearer tokens included."""
    practice = settings().practice.name
    with transaction() as session:
        found = find_user(session=session, username_or_id=user)
        assert found.id is not None
        password = generate_password(
            context=context_of(session=session, user=found, practice_name=practice)
        )
        set_password(
            session=session,
            user_id=found.id,
            password=password,
            practice_name=practice,
            must_change=True,
            actor="cli",
        )
        name = found.username
    if as_json:
        emit_json({"username": name, "one_time_password": password})
        return
    console.print(f"User {name}: sessions ended. One-time password: {password}", highlight=False)
    console.print("It is shown only now; they must choose a new password at their next login.")


@token_app.command("create")
@handle_errors
def token_create(
    user: str = typer.Argument(..., help="Username or id."),
    name: str = typer.Option(..., "--name", help="What the token is for."),
    days: int | None = typer.Option(None, "--days", min=1, help="Expire after this many days."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a bearer token (printed once; only its hash is stored)."""
    with transaction() as session:
        found = find_user(session=session, username_or_id=user)
        assert found.id is not None
        expires = utcnow() + timedelta(days=days) if days else None
        new = create_token(
            session=session, user_id=found.id, name=name, expires_at=expires, actor="cli"
        )
        info = {
            "id": new.token.id,
            "prefix": new.token.prefix,
            "token": new.secret,
            "expires_at": expires.isoformat() if expires else None,
        }
    if as_json:
        emit_json(info)
        return
    console.print(f"Token {info['id']} ({info['prefix']}...): {new.secret}", highlight=False)
    console.print("Send it as 'Authorization: Bearer <token>'. It is shown only now.")


@token_app.command("revoke")
@handle_errors
def token_revoke(token_id: int = typer.Argument(..., help="Token id (see `token list`).")) -> None:
    """Revoke a token at once."""
    with transaction() as session:
        revoke_token(session=session, token_id=token_id, actor="cli")
    console.print(f"Token {token_id} revoked.")


@token_app.command("list")
@handle_errors
def token_list(as_json: bool = JSON_OPTION) -> None:
    """Every token (prefix only), with its user and state."""
    with transaction() as session:
        rows = [
            {
                "id": t.id,
                "user_id": t.user_id,
                "name": t.name,
                "prefix": t.prefix,
                "created": t.created_at.isoformat(),
                "revoked": t.revoked_at is not None,
                "last_used": t.last_used_at.isoformat() if t.last_used_at else None,
            }
            for t in list_tokens(session=session)
        ]
    if as_json:
        emit_json(rows)
        return
    cols = ["id", "user_id", "name", "prefix", "created", "revoked", "last_used"]
    console.print(table("API tokens", cols, [[r[c] for c in cols] for r in rows]))


def first_admin(username: str) -> None:
    """`steve init`: the first admin, when the practice has no user yet, with a random
    one-time password printed once (no default password exists)."""
    s = settings()
    with transaction() as session:
        if list_users(session=session):
            return
        pid = create_admin_practitioner(session=session)
        password = generate_password(
            context=password_context(
                username=username,
                person_name="Practice administrator",
                practice_name=s.practice.name,
            )
        )
        create_user(
            session=session,
            username=username,
            practitioner_id=pid,
            password=password,
            role=Role.ADMIN,
            must_change_password=True,
            practice_name=s.practice.name,
            actor="cli",
        )
    console.print(
        f"First admin created. Log in at http://{s.api.host}:{s.api.port}/login (after "
        f"`steve serve`) as {username.strip().lower()} with the one-time password: {password}",
        highlight=False,
    )
    console.print("It is shown only now; you will be asked for a new password at first login.")
