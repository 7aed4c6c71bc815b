"""The outbox: idempotent enqueue, exclusive claims, leases, backoff, failure, .eml files."""

from __future__ import annotations

import email
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db.engine import session_scope, utcnow
from db.models import OutboxMessage, OutboxState
from schedules.config import outbox_dir
from schedules.email import outbox
from schedules.email.delivery import EmlTransport, deliver_due, eml_name
from schedules.email.mime import build_message
from tests.support.service import service_config
from tools.errors import InvalidInput

FROM = "Steve <steve@practice.test>"


def _email(key: str = "briefing:1:2026-11-23", to: str = "doc@practice.test") -> outbox.Email:
    return outbox.Email(
        key=key,
        kind="briefing",
        recipient_id=None,
        to_address=to,
        subject="Morning briefing\r\nBcc: evil@example.com",
        text="Agenda <b>",
        html="<p>Agenda &lt;b&gt;</p>",
    )


def test_enqueue_is_idempotent_by_key(engine) -> None:
    with session_scope(engine) as s:
        first, created = outbox.enqueue(session=s, email=_email(), mail_from=FROM)
        assert created
    with session_scope(engine) as s:
        again, created = outbox.enqueue(session=s, email=_email(), mail_from=FROM)
        assert not created and again.id == first.id
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage)).all()
    assert len(rows) == 1
    assert rows[0].message_id == "<briefing.1.2026-11-23@practice.test>"
    assert "\n" not in rows[0].subject  # no header injection through a subject


def test_concurrent_enqueues_of_one_key_make_one_row(engine) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with session_scope(engine) as s:
                outbox.enqueue(session=s, email=_email(), mail_from=FROM)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Session(engine) as s:
        assert len(s.exec(select(OutboxMessage)).all()) == 1


def test_bad_key_or_address_is_refused(engine) -> None:
    with session_scope(engine) as s, pytest.raises(InvalidInput):
        outbox.enqueue(session=s, email=_email(key="bad key!"), mail_from=FROM)
    with session_scope(engine) as s, pytest.raises(InvalidInput):
        outbox.enqueue(session=s, email=_email(to=""), mail_from=FROM)


def test_a_claim_is_exclusive_until_its_lease_runs_out(engine) -> None:
    with session_scope(engine) as s:
        row, _ = outbox.enqueue(session=s, email=_email(), mail_from=FROM)
    now = utcnow()
    first = outbox.claim(engine=engine, message_id=row.id, instance="a", lease_seconds=60, now=now)
    assert first is not None and first.state == OutboxState.SENDING and first.attempts == 1
    assert (
        outbox.claim(engine=engine, message_id=row.id, instance="b", lease_seconds=60, now=now)
        is None
    )
    later = now + timedelta(seconds=61)  # the first sender died: its lease ran out
    second = outbox.claim(
        engine=engine, message_id=row.id, instance="b", lease_seconds=60, now=later
    )
    assert second is not None and second.claimed_by == "b" and second.attempts == 2
    assert outbox.mark_sent(engine=engine, message_id=row.id)
    assert outbox.due_ids(engine=engine, now=later + timedelta(hours=1)) == []


def test_failures_back_off_then_end_visibly_failed(engine) -> None:
    with session_scope(engine) as s:
        row, _ = outbox.enqueue(session=s, email=_email(), mail_from=FROM)
    now = utcnow()
    delays = []
    for attempt in range(1, 4):
        claimed = outbox.claim(
            engine=engine, message_id=row.id, instance="a", lease_seconds=5, now=now
        )
        assert claimed is not None
        state = outbox.mark_failed_attempt(
            engine=engine,
            message_id=row.id,
            error="TimeoutError: no answer",
            permanent=False,
            max_attempts=3,
            retry_seconds=10,
            now=now,
        )
        with Session(engine) as s:
            fresh = s.get(OutboxMessage, row.id)
        assert fresh is not None
        if attempt < 3:
            assert state == OutboxState.PENDING
            delays.append((fresh.next_attempt_at - now).total_seconds())
            now = fresh.next_attempt_at
        else:
            assert state == OutboxState.FAILED and fresh.last_error == "TimeoutError: no answer"
    assert delays == [10, 20]
    with session_scope(engine) as s:
        again = outbox.requeue(session=s, key=row.key)
        assert again.state == OutboxState.PENDING and again.attempts == 0


def test_permanent_errors_fail_at_once(engine) -> None:
    with session_scope(engine) as s:
        row, _ = outbox.enqueue(session=s, email=_email(), mail_from=FROM)
    assert outbox.claim(engine=engine, message_id=row.id, instance="a", lease_seconds=5)
    state = outbox.mark_failed_attempt(
        engine=engine,
        message_id=row.id,
        error="550",
        permanent=True,
        max_attempts=6,
        retry_seconds=10,
    )
    assert state == OutboxState.FAILED


def test_message_is_multipart_and_the_same_on_every_attempt(engine) -> None:
    with session_scope(engine) as s:
        row, _ = outbox.enqueue(session=s, email=_email(), mail_from=FROM)
    one = build_message(row, mail_from=FROM).as_bytes()
    two = build_message(row, mail_from=FROM).as_bytes()
    parsed = email.message_from_bytes(one)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.get_payload()] == ["text/plain", "text/html"]
    assert parsed["Message-ID"] == row.message_id and parsed["X-Steve-Key"] == row.key
    strip = [
        line for line in one.splitlines() if not line.startswith(b"--") and b"boundary" not in line
    ]
    assert strip == [
        line for line in two.splitlines() if not line.startswith(b"--") and b"boundary" not in line
    ]


def test_eml_delivery_writes_one_file_per_key_and_rewrites_in_place(engine, tmp_path) -> None:
    config = service_config(tmp_path / "data")
    with session_scope(engine) as s:
        outbox.enqueue(session=s, email=_email(), mail_from=FROM)
        outbox.enqueue(session=s, email=_email(key="digest:1:2026-W47"), mail_from=FROM)
    report = deliver_due(engine=engine, settings=config, instance="t")
    assert report.sent == 2 and len(report.windows) == 2
    files = sorted(p.name for p in outbox_dir(config).iterdir())
    assert files == [eml_name("briefing:1:2026-11-23"), eml_name("digest:1:2026-W47")]
    # A retry after a crash (the row never marked sent) rewrites the same file: no duplicate.
    with Session(engine) as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.key == "digest:1:2026-W47")).one()
    EmlTransport(outbox_dir(config)).send(build_message(row, mail_from=FROM), key=row.key)
    assert sorted(p.name for p in outbox_dir(config).iterdir()) == files
    assert deliver_due(engine=engine, settings=config, instance="t").sent == 0
