"""Emails as MIME: multipart/alternative (plain text + HTML) rendered from prompts/email/.

The HTML templates are autoescaped (prompts.loader), so names, task titles and anything
else from the database cannot become markup; documents that arrive as HTML already made
safe by their own renderer (briefings, digests) are passed in as `Markup`.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from db.models import OutboxMessage
from prompts.loader import render


def render_email(template: str, /, **ctx: Any) -> tuple[str, str]:
    """(text, html) from prompts/templates/email/<name>.txt.j2 and .html.j2."""
    return render(f"templates/email/{template}.txt.j2", **ctx), render(
        f"templates/email/{template}.html.j2", **ctx
    )


def build_message(row: OutboxMessage, *, mail_from: str) -> EmailMessage:
    """The same bytes for every attempt at a row: the Date is the row's creation time and the
    Message-ID comes from the key."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = mail_from
    msg["To"] = row.to_address
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    msg["X-Steve-Key"] = row.key
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to robots
    msg.set_content(row.text_body)
    msg.add_alternative(row.html_body, subtype="html")
    return msg
