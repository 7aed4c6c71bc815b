"""The outbox: every email is a row before it is anything else.

Life of a row: `pending` -> (claim) `sending` -> `sent`; a failed attempt goes back to
`pending` with a later `next_attempt_at` (backoff), or to `failed` when the error is
permanent or the attempts are used up. A claim is a conditional UPDATE committed on its own,
so two senders can never both hold a row; a `sending` row whose lease ran out (its sender
died) is claimable again. The idempotency key is unique: enqueueing a key twice returns the
first row and changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from sqlalchemy import ColumnElement, Engine, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.engine import utcnow
from db.models import OutboxMessage, OutboxState
from tools.errors import InvalidInput, NotFound

MAX_BACKOFF_SECONDS = 3600.0
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


@dataclass(frozen=True)
class Email:
    key: str  # e.g. 'briefing:12:2026-11-23'
    kind: str
    recipient_id: int | None
    to_address: str
    subject: str
    text: str
    html: str


def message_id_for(key: str, mail_from: str) -> str:
    """A Message-ID that is a function of the key, so every resend of a key carries the same
    one and a receiver can drop repeats."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "steve.localhost"
    local = re.sub(r"[^A-Za-z0-9.-]", ".", key)
    return f"<{local}@{domain}>"


def get_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def enqueue(
    *, session: Session, email: Email, mail_from: str, now: datetime | None = None
) -> tuple[OutboxMessage, bool]:
    """Add the email unless its key is already there; (row, created). In the caller's
    transaction, so an email and the work that made it commit together."""
    if not _KEY.match(email.key):
        raise InvalidInput(f"outbox key must be 1-200 letters, digits or '_.:-'; got {email.key!r}")
    if not email.to_address or "@" not in email.to_address:
        raise InvalidInput(f"email {email.key} has no usable recipient address")
    existing = get_by_key(session, email.key)
    if existing is not None:
        return existing, False
    now = now or utcnow()
    row = OutboxMessage(
        key=email.key,
        kind=email.kind,
        recipient_id=email.recipient_id,
        to_address=email.to_address,
        subject=" ".join(email.subject.split())[:300],  # no header folding tricks
        text_body=email.text,
        html_body=email.html,
        message_id=message_id_for(email.key, mail_from),
        next_attempt_at=now,
        created_at=now,
    )
    savepoint = session.begin_nested()
    try:
        session.add(row)
        session.flush()
        savepoint.commit()
    except IntegrityError:
        # Another process enqueued the same key between our read and our insert.
        savepoint.rollback()
        existing = get_by_key(session, email.key)
        if existing is None:
            raise
        return existing, False
    return row, True


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
        ),
        and_(
            col(OutboxMessage.state) == OutboxState.SENDING,
            col(OutboxMessage.lease_until) < now,
        ),
    )


def due_ids(
    *, engine: Engine, now: datetime | None = None, keys: list[str] | None = None, limit: int = 100
) -> list[int]:
    now = now or utcnow()
    stmt = select(OutboxMessage.id).where(_claimable(now))
    if keys is not None:
        stmt = stmt.where(col(OutboxMessage.key).in_(keys))
    with Session(engine) as session:
        return [i for i in session.exec(stmt.order_by(col(OutboxMessage.id)).limit(limit)) if i]


def claim(
    *,
    engine: Engine,
    message_id: int,
    instance: str,
    lease_seconds: float,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Take one row for sending (committed at once), or None if someone else has it."""
    now = now or utcnow()
    with Session(engine, expire_on_commit=False) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, _claimable(now))
            .values(
                state=OutboxState.SENDING,
                lease_until=now + timedelta(seconds=lease_seconds),
                claimed_by=instance[:120],
                attempts=OutboxMessage.attempts + 1,
            )
        )
        if getattr(result, "rowcount", 0) != 1:
            session.rollback()
            return None
        session.commit()
        return session.get(OutboxMessage, message_id)


def mark_sent(*, engine: Engine, message_id: int, now: datetime | None = None) -> bool:
    """Record the delivery; False if the row was no longer ours to finish (lease lost)."""
    with Session(engine) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message_id,
                col(OutboxMessage.state) == OutboxState.SENDING,
            )
            .values(
                state=OutboxState.SENT, sent_at=now or utcnow(), lease_until=None, last_error=None
            )
        )
        session.commit()
        return getattr(result, "rowcount", 0) == 1


def backoff(attempts: int, base_seconds: float) -> float:
    return min(base_seconds * 2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS)


def mark_failed_attempt(
    *,
    engine: Engine,
    message_id: int,
    error: str,
    permanent: bool,
    max_attempts: int,
    retry_seconds: float,
    now: datetime | None = None,
) -> OutboxState:
    """After a failed send: retry later (backoff) or give up visibly. Returns the new state."""
    now = now or utcnow()
    with Session(engine) as session:
        row = session.get(OutboxMessage, message_id)
        if row is None or row.state != OutboxState.SENDING:
            return row.state if row else OutboxState.FAILED
        row.last_error = error[:500]
        row.lease_until = None
        if permanent or row.attempts >= max_attempts:
            row.state = OutboxState.FAILED
        else:
            row.state = OutboxState.PENDING
            row.next_attempt_at = now + timedelta(seconds=backoff(row.attempts, retry_seconds))
        session.add(row)
        session.commit()
        return row.state


def requeue(*, session: Session, key: str, now: datetime | None = None) -> OutboxMessage:
    """Give a failed email another round of attempts (after the cause was fixed)."""
    row = get_by_key(session, key)
    if row is None:
        raise NotFound("outbox email", key)
    if row.state != OutboxState.FAILED:
        raise InvalidInput(f"outbox email {key} is {row.state}; only failed emails are retried")
    row.state = OutboxState.PENDING
    row.attempts = 0
    row.next_attempt_at = now or utcnow()
    session.add(row)
    session.flush()
    return row


def list_messages(
    *, session: Session, state: OutboxState | None = None, limit: int = 50
) -> list[OutboxMessage]:
    stmt = select(OutboxMessage)
    if state is not None:
        stmt = stmt.where(OutboxMessage.state == state)
    return list(session.exec(stmt.order_by(col(OutboxMessage.id).desc()).limit(limit)).all())
