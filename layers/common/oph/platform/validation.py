"""Syntax checks of values people type, shared by every context (one rule, one place)."""

from __future__ import annotations

import re
from datetime import date

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit; contract section 1
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?=[^@]{{1,64}}@){_LOCAL}@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def normalize_email(value: str) -> str:
    """E-mails are compared and stored trimmed and lower-cased (contract section 2)."""
    return value.strip().lower()


def require_email_length(value: str, field: str = "email") -> str:
    """The normalised address, or 422 ``invalid_format`` on ``field`` when it is longer than
    254 characters (contract section 1: on every route that takes one, login, "forgot" and
    "resend" included — a length reveals nothing about accounts, and DynamoDB refuses a key
    over 2 KB, which a longer address would make)."""
    from oph.platform.errors import ValidationFailed

    normalized = normalize_email(value)
    if len(normalized) > MAX_EMAIL_LENGTH:
        raise ValidationFailed.single(field, "invalid_format", "L'adresse e-mail ne peut pas dépasser 254 caractères.")
    return normalized


def is_valid_email(value: str) -> bool:
    """A plain, deliverable address (what SES accepts): ASCII, one @, a local part of at most
    64 characters, a domain with a TLD, 254 characters in all; judged once normalised."""
    candidate = normalize_email(value)
    return len(candidate) <= MAX_EMAIL_LENGTH and _EMAIL.fullmatch(candidate) is not None


def is_valid_date(value: str) -> bool:
    """``YYYY-MM-DD`` and a real calendar day."""
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
