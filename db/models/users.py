"""People who log in: user accounts, API tokens, web sessions, chat threads.

A user is one practitioner record (in-house) with a role from tools.access. Secrets are
never stored: passwords as argon2 hashes, tokens and session ids as SHA-256 digests (they
are long random strings, so a fast digest is enough and lookups stay indexed).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.engine import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    practitioner_id: int = Field(foreign_key="practitioner.id", index=True, ondelete="CASCADE")
    # a tools.access.Role value (kept as text: tools.access imports these models)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    active: bool = True
    failed_logins: int = Field(default=0, ge=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A one-time password from `steve init` / `steve users add`: the web app asks for a new one.
    must_change_password: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=20)  # shown in listings; not enough to use the token
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    session_hash: str = Field(max_length=64, unique=True)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ip: str | None = Field(default=None, max_length=45)


class ChatThread(SQLModel, table=True):
    """A user's conversation (the messages live in the LangGraph checkpointer)."""

    __tablename__ = "chat_thread"
    __table_args__ = (sa.Index("ix_chat_thread_user_updated", "user_id", "updated_at"),)

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    title: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
