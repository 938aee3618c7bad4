"""SES bounce and complaint events: the address is marked undeliverable on its account.

SES publishes the events of the configuration set to an SNS topic; the mail-events function
receives them. A permanent bounce or a complaint sets ``email_status`` to ``undeliverable``
(shown by ``GET /v1/account``, so the app asks the holder to correct it, and visible to
support in the console). Transient bounces (mailbox full…) change nothing. Both the
event-publishing format (``eventType``) and identity notifications (``notificationType``)
are understood.
"""

from __future__ import annotations

import json
from typing import Any

from oph.accounts.account_store import account_store
from oph.platform import clock
from oph.platform.observability import count, get_logger
from oph.platform.validation import normalize_email


def undeliverable_addresses(message: dict[str, Any]) -> list[str]:
    kind = message.get("eventType") or message.get("notificationType")
    if kind == "Bounce":
        bounce = message.get("bounce", {})
        if bounce.get("bounceType") != "Permanent":
            return []
        return [r.get("emailAddress", "") for r in bounce.get("bouncedRecipients", [])]
    if kind == "Complaint":
        return [r.get("emailAddress", "") for r in message.get("complaint", {}).get("complainedRecipients", [])]
    return []


def mark_undeliverable(address: str, reason: str) -> bool:
    """Flag the account that uses ``address``; False when no account uses it (nothing to do),
    or no longer does (the e-mail changed meanwhile: the event is stale)."""
    store = account_store()
    account = store.get_by_email(address)
    if account is None or account.email != normalize_email(address):
        return False
    return store.mark_undeliverable(account.account_id, account.email, reason, clock.iso_instant())


def handle_sns_records(records: list[dict[str, Any]]) -> int:
    """Process SNS records carrying SES events; returns how many accounts were flagged."""
    flagged = 0
    for record in records:
        try:
            message = json.loads(record.get("Sns", {}).get("Message", "{}"))
        except ValueError:
            get_logger().warning("SES event is not JSON; ignored")
            continue
        if not isinstance(message, dict):
            continue
        kind = str(message.get("eventType") or message.get("notificationType") or "")
        for address in undeliverable_addresses(message):
            if address:
                count("EmailsBounced" if kind == "Bounce" else "EmailsComplained")
                flagged += mark_undeliverable(address, kind.lower())
    return flagged
