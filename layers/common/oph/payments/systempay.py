"""The Systempay / PayZen (Lyra) "formulaire de paiement" protocol, as pure functions.

Reference: the public Lyra documentation of the hosted payment form (docs.lyra.com,
paiement.systempay.fr/doc), chapters "Calculer la signature", "Calculer la signature de
l'IPN", the data dictionary (``vads_trans_id``, ``vads_trans_date``, ``vads_trans_status``)
and "Analyser la nature de la notification".

- Signature (HMAC-SHA-256 mode): take every field whose name starts with ``vads_``, sort them
  by name, join their values with ``+``, append ``+`` and the key (test or production key
  according to ``vads_ctx_mode``), HMAC-SHA-256 that UTF-8 string with the same key, Base64.
- The notification (IPN) is checked on the fields exactly as received, never on what we sent.
- ``vads_trans_id``: 6 characters, unique per shop per UTC day (00:00:00-23:59:59 UTC), not
  case sensitive; 900000-999999 is reserved to the gateway, so we only use 000000-899999.
- ``vads_trans_date``: the form's UTC date and time, ``YYYYMMDDHHMMSS``.
- ``vads_amount``: in the smallest currency unit (cents); ``vads_currency``: ISO 4217 numeric
  code, 978 for the euro.

Nothing here does I/O: the gateway adapters (:mod:`oph.payments.adapters.gateway`) and the tests use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl

CURRENCY_EUR = "978"
TEST = "TEST"
PRODUCTION = "PRODUCTION"
CTX_MODES = (TEST, PRODUCTION)
TRANS_ID_SPACE = 900_000  # 000000-899999; 900000-999999 belong to the gateway

# vads_trans_status -> our payment status (None: not final yet, nothing changes).
SUCCEEDED = "succeeded"
REFUSED = "refused"
ABANDONED = "abandoned"
EXPIRED = "expired"
STATUS_MAP: dict[str, str | None] = {
    # the money is taken (or will be captured automatically on the expected date)
    "AUTHORISED": SUCCEEDED,
    "CAPTURED": SUCCEEDED,
    "ACCEPTED": SUCCEEDED,
    # declined by the bank, or the transaction could not be created (e.g. 3-D Secure failure)
    "REFUSED": REFUSED,
    "NOT_CREATED": REFUSED,
    "CAPTURE_FAILED": REFUSED,
    # the buyer left the page, or the transaction was cancelled
    "ABANDONED": ABANDONED,
    "CANCELLED": ABANDONED,
    # authorisation validity passed without validation
    "EXPIRED": EXPIRED,
    # temporary states: a later notification gives the final status
    "INITIAL": None,
    "UNDER_VERIFICATION": None,
    "WAITING_AUTHORISATION": None,
    "WAITING_AUTHORISATION_TO_VALIDATE": None,
    "AUTHORISED_TO_VALIDATE": None,
    "PRE_AUTHORISED": None,
    "SUSPENDED": None,
    "WAITING_FOR_PAYMENT": None,
}

# Fields every notification of a card payment carries and that we check.
REQUIRED_NOTIFICATION_FIELDS = (
    "signature",
    "vads_site_id",
    "vads_ctx_mode",
    "vads_order_id",
    "vads_amount",
    "vads_currency",
    "vads_trans_id",
    "vads_trans_date",
    "vads_trans_status",
)


class MalformedNotification(ValueError):
    """The body is not a well-formed form of vads_* fields (answered 4xx, nothing changes)."""


def signature_string(fields: Mapping[str, str], key: str) -> str:
    """The string that is signed: sorted ``vads_`` values joined by ``+``, then ``+key``."""
    values = [fields[name] for name in sorted(name for name in fields if name.startswith("vads_"))]
    return "+".join([*values, key])


def sign(fields: Mapping[str, str], key: str) -> str:
    """HMAC-SHA-256 signature, Base64-encoded, of the ``vads_`` fields with ``key``."""
    message = signature_string(fields, key).encode("utf-8")
    return base64.b64encode(hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()).decode("ascii")


def verify(fields: Mapping[str, str], key: str) -> bool:
    """True when ``fields["signature"]`` is the signature of the fields as received.

    Constant-time comparison; an empty key never verifies anything.
    """
    received = fields.get("signature", "")
    if not key or not received:
        return False
    expected = sign(fields, key)
    return hmac.compare_digest(expected.encode("ascii"), received.encode("utf-8", "surrogatepass"))


def signed(fields: Mapping[str, str], key: str) -> dict[str, str]:
    """The fields plus their ``signature``."""
    return {**fields, "signature": sign(fields, key)}


def format_trans_date(moment: datetime) -> str:
    """``vads_trans_date``: UTC, ``YYYYMMDDHHMMSS``."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def format_trans_id(sequence: int) -> str:
    """``vads_trans_id`` from a per-day counter (0-based): six digits in 000000-899999."""
    return f"{sequence % TRANS_ID_SPACE:06d}"


def payment_form(
    *,
    site_id: str,
    ctx_mode: str,
    trans_id: str,
    trans_date: str,
    amount_cents: int,
    order_id: str,
    return_url: str,
    language: str = "fr",
) -> dict[str, str]:
    """The unsigned ``vads_*`` fields of an immediate single card payment in euros."""
    if ctx_mode not in CTX_MODES:
        raise ValueError("ctx_mode must be TEST or PRODUCTION")
    return {
        "vads_action_mode": "INTERACTIVE",
        "vads_amount": str(int(amount_cents)),
        "vads_capture_delay": "0",
        "vads_ctx_mode": ctx_mode,
        "vads_currency": CURRENCY_EUR,
        "vads_language": language,
        "vads_order_id": order_id,
        "vads_page_action": "PAYMENT",
        "vads_payment_config": "SINGLE",
        "vads_return_mode": "NONE",  # the return page reads the stored status, never the browser's
        "vads_site_id": site_id,
        "vads_trans_date": trans_date,
        "vads_trans_id": trans_id,
        "vads_url_return": return_url,
        "vads_validation_mode": "0",  # captured automatically: no "to be validated" state
        "vads_version": "V2",
    }


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as the gateway sent it.

    Values are kept exactly as received (only percent-decoding). A field present twice, a
    body that is not UTF-8, or one without any field is malformed: ambiguous input is never
    guessed at.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedNotification("body is not UTF-8") from None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise MalformedNotification("body is not a form") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise MalformedNotification(f"duplicate field {name}")
        fields[name] = value
    if not fields:
        raise MalformedNotification("empty form")
    return fields


def check_notification_shape(fields: Mapping[str, str]) -> None:
    """Every field we rely on is present and well-formed (before any lookup)."""
    missing = [name for name in REQUIRED_NOTIFICATION_FIELDS if not fields.get(name)]
    if missing:
        raise MalformedNotification(f"missing fields: {', '.join(missing)}")
    if fields["vads_ctx_mode"] not in CTX_MODES:
        raise MalformedNotification("unknown vads_ctx_mode")
    if not fields["vads_amount"].isdigit() or not fields["vads_currency"].isdigit():
        raise MalformedNotification("amount and currency must be numeric")
    if len(fields["vads_order_id"]) > 64:
        raise MalformedNotification("vads_order_id too long")


def map_status(trans_status: str) -> str | None:
    """Our status for a ``vads_trans_status``; None when it is not final (or unknown)."""
    return STATUS_MAP.get(trans_status)
