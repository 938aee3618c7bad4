"""What the embedded SES "sent": moto keeps every message; this lists them as the contract's
``GET /_dev/outbox`` shows them (oldest first), parsing the raw MIME the mailer sent.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from typing import Any

from devserver import template as tpl

_first_seen: dict[str, str] = {}


def _backend() -> Any:
    from moto.ses.models import ses_backends

    return ses_backends[tpl.ACCOUNT_ID][tpl.REGION]


def clear() -> None:
    _backend().sent_messages.clear()
    _first_seen.clear()


def messages() -> list[dict[str, Any]]:
    result = []
    for sent in list(_backend().sent_messages):
        seen = _first_seen.setdefault(sent.id, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        raw = getattr(sent, "raw_data", None)
        if raw is None:  # a "Simple" message (not used by the mailer, listed anyway)
            result.append(
                {
                    "to": [a for group in sent.destinations.values() for a in group],
                    "from": sent.source,
                    "subject": sent.subject,
                    "text": sent.body,
                    "html": "",
                    "attachments": [],
                    "sent_at": seen,
                }
            )
            continue
        parsed = email.message_from_string(raw, policy=email.policy.default)
        text = html = ""
        attachments = []
        for part in parsed.walk():
            if part.is_multipart():
                continue
            if part.get_filename():
                payload = part.get_payload(decode=True) or b""
                attachments.append(
                    {"filename": part.get_filename(), "content_type": part.get_content_type(), "size": len(payload)}
                )
            elif part.get_content_type() == "text/plain" and not text:
                text = part.get_content()
            elif part.get_content_type() == "text/html" and not html:
                html = part.get_content()
        result.append(
            {
                "to": list(dict.fromkeys(sent.destinations)),  # moto lists To twice
                "from": str(parsed["From"]),
                "subject": str(parsed["Subject"]),
                "text": text,
                "html": html,
                "attachments": attachments,
                "sent_at": seen,
            }
        )
    return result


def attachment_bytes(index: int, filename: str) -> bytes | None:
    """The content of one attachment (tests open the PDFs that were e-mailed)."""
    sent = list(_backend().sent_messages)[index]
    parsed = email.message_from_string(sent.raw_data, policy=email.policy.default)
    for part in parsed.walk():
        if part.get_filename() == filename:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None
