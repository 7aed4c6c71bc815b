"""Delivery: claim a due outbox row, hand it to SMTP (or write it as an .eml file), record it.

Exactly once, and where it cannot be: a row is claimed (committed) before any byte is sent
and marked sent right after the server's 250 to DATA, before anything else (QUIT included).
A process killed before the 250 leaves a 'sending' row whose lease runs out, and the retry
sends the one copy; killed between the 250 and the commit of 'sent' (`DeliveryReport.windows`
measures that span), the retry sends a second copy, which carries the same Message-ID so
the receiving side can drop it. SMTP offers nothing better. The .eml transport has no such
window: the file's name comes from the key and it is written to a temporary name and
renamed, so a rewrite replaces it.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from db.models import OutboxState
from db.private_files import private_dir
from schedules.config import ServiceSettings, SmtpConfig, outbox_dir
from schedules.email import outbox
from schedules.email.mime import build_message
from schedules.email.smtp_faults import arm_mid_data, fault

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A send failed. `permanent`: retrying the same message cannot help (a 5xx reply).
    `connection`: the server could not be reached or talked to; later messages would fail too.
    The text is safe to store and log: an error class, an SMTP code, the server's short reply."""

    def __init__(self, text: str, *, permanent: bool = False, connection: bool = False) -> None:
        super().__init__(text)
        self.permanent = permanent
        self.connection = connection


class Transport(Protocol):
    def send(self, message: EmailMessage, *, key: str) -> None: ...

    def close(self) -> None: ...


def eml_name(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "_" for c in key) + ".eml"


class EmlTransport:
    """Emails as files in the outbox folder: the embedded default, with no mail server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: EmailMessage, *, key: str) -> None:
        private_dir(self.directory)  # mkstemp makes the files themselves 0600
        target = self.directory / eml_name(key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)  # atomic: a reader sees the old file or the whole new one
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise DeliveryError(f"cannot write the outbox folder ({type(exc).__name__})") from None

    def close(self) -> None:
        pass


def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _timed_out(exc: BaseException) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected("...: timed out").
    return isinstance(exc, TimeoutError) or (
        isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc)
    )


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else ""
    return " ".join(text.split())[:200]


class SmtpTransport:
    """One connection reused for a batch; any error drops it and the next send reconnects."""

    def __init__(self, config: SmtpConfig, *, mail_from: str) -> None:
        self.config = config
        self.sender = parseaddr(mail_from)[1]
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            smtp: smtplib.SMTP
            if c.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout_seconds, context=_ssl_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
            smtp.ehlo()
            if c.security == "starttls":
                smtp.starttls(context=_ssl_context())
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password or "")
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP server refused the session: {exc.smtp_code} {_reply(exc)}", connection=True
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            if _timed_out(exc):
                raise DeliveryError(
                    f"SMTP server did not answer within {c.timeout_seconds:g}s", connection=True
                ) from None
            raise DeliveryError(
                f"cannot reach the SMTP server ({type(exc).__name__})", connection=True
            ) from None
        return smtp

    def send(self, message: EmailMessage, *, key: str) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        to = parseaddr(str(message["To"]))[1]
        try:
            code, reply = smtp.mail(self.sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, self.sender)
            code, reply = smtp.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
            fault("after_rcpt")
            arm_mid_data(smtp)
            smtp.data(message.as_bytes())  # raises SMTPDataError unless the reply is 250
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            self._reset()
            text = " ".join(reply.decode("utf-8", "replace").split())[:200]
            raise DeliveryError(
                f"recipient refused: {code} {text}", permanent=code >= 500
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise DeliveryError(
                f"{type(exc).__name__}: {exc.smtp_code} {_reply(exc)}",
                permanent=exc.smtp_code >= 500,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            if _timed_out(exc):
                raise DeliveryError(
                    f"SMTP server did not answer within {self.config.timeout_seconds:g}s",
                    connection=True,
                ) from None
            raise DeliveryError(
                f"SMTP conversation failed ({type(exc).__name__})", connection=True
            ) from None

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def check(self) -> None:
        """Connect (and log in) once and hang up: does the server answer? DeliveryError if not."""
        self._smtp = self._connect()
        self.close()  # QUIT, as after a batch

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def make_transport(settings: ServiceSettings) -> Transport:
    smtp = settings.email.smtp
    if smtp is not None:
        return SmtpTransport(smtp, mail_from=settings.email.mail_from)
    return EmlTransport(outbox_dir(settings))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lease_lost: int = 0
    # Seconds from the server's acceptance to the commit of 'sent', one per email: the span in
    # which a crash makes a duplicate.
    windows: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # safe texts, one per failed attempt

    def counts(self) -> dict[str, int]:
        return {"sent": self.sent, "retrying": self.retrying, "failed": self.failed}


def deliver_due(
    *,
    engine: Engine,
    settings: ServiceSettings,
    instance: str,
    transport: Transport | None = None,
    keys: list[str] | None = None,
    limit: int = 500,
) -> DeliveryReport:
    """Send what is due (or just `keys`), one claimed row at a time."""
    report = DeliveryReport()
    own = transport is None
    transport = transport or make_transport(settings)
    email = settings.email
    try:
        for message_id in outbox.due_ids(engine=engine, keys=keys, limit=limit):
            row = outbox.claim(
                engine=engine,
                message_id=message_id,
                instance=instance,
                lease_seconds=email.outbox_lease_seconds,
            )
            if row is None:
                continue  # another sender took it
            fault("after_claim")
            try:
                transport.send(build_message(row, mail_from=email.mail_from), key=row.key)
            except DeliveryError as exc:
                state = outbox.mark_failed_attempt(
                    engine=engine,
                    message_id=message_id,
                    error=str(exc),
                    permanent=exc.permanent,
                    max_attempts=email.outbox_max_attempts,
                    retry_seconds=email.outbox_retry_seconds,
                )
                report.errors.append(str(exc))
                if state == OutboxState.FAILED:
                    report.failed += 1
                    log.warning("email %s failed for good: %s", row.id, exc)
                else:
                    report.retrying += 1
                    log.info("email %s will be retried: %s", row.id, exc)
                if exc.connection:
                    break  # the server is down: the rest wait for their next attempt
                continue
            accepted = time.perf_counter()
            fault("after_smtp_data")
            ours = outbox.mark_sent(engine=engine, message_id=message_id)
            report.windows.append(time.perf_counter() - accepted)
            fault("after_mark_sent")
            if ours:
                report.sent += 1
            else:
                report.lease_lost += 1
                log.warning("email %s was sent after its lease ran out", row.id)
    finally:
        if own:
            transport.close()
    return report
