"""Online accounts of holders, their sessions, and the rules that need no storage.

An account is held by one holder (``holder_id``) and identified by one e-mail; both are
unique, which :mod:`oph.accounts.account_store` enforces with one uniqueness item each,
written in the same transaction as the account. A pending account (e-mail not yet confirmed)
holds its e-mail until ``pending_expires_at`` (7 days); past that it is expired
(:func:`pending_expired`) and whoever registers with the address, or asks for it in an
e-mail change, takes it over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PENDING = "pending"
ACTIVE = "active"
# push_notices: a push when a notice is published; push_payments: a push when a payment
# succeeds or is refused and when a direct-debit mandate becomes active, is rejected or revoked.
DEFAULT_PREFERENCES = {
    "notice_emails": True,
    "receipts_by_email": False,
    "push_notices": True,
    "push_payments": True,
}


@dataclass
class Account:
    account_id: str
    tenant_number: str
    holder_id: str
    email: str
    status: str  # pending | active
    password_hash: str
    first_name: str = ""
    last_name: str = ""
    created_at: str = ""  # instant
    verified_at: str | None = None
    pending_expires_at: int | None = None  # epoch seconds, pending accounts only
    terms_version: str = ""
    terms_accepted_at: str = ""
    disabled: bool = False
    email_status: str = "ok"  # ok | undeliverable
    preferences: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PREFERENCES))
    preferences_changed_at: dict[str, str] = field(default_factory=dict)
    pending_email: str | None = None
    pending_email_expires_at: int | None = None
    # Every access and refresh token carries the generation it was issued under; revoking all
    # sessions (password change or reset, disabling, deletion) increments it, so earlier
    # tokens are refused from their next use on, not merely at expiry.
    session_generation: int = 0

    @property
    def in_service(self) -> bool:
        """Active (its e-mail confirmed) and not disabled: an account that may log in, refresh,
        be sent a link or be told anything."""
        return self.status == ACTIVE and not self.disabled

    def wants(self, preference: str) -> bool:
        """The preference as set, else its default (``DEFAULT_PREFERENCES``)."""
        return bool({**DEFAULT_PREFERENCES, **(self.preferences or {})}.get(preference, False))


def credentials_fingerprint(account: Account) -> str:
    """What a reset link is bound to: the account's e-mail and password as they were when it
    was sent. A link whose fingerprint no longer matches is dead (``token_invalid``), whatever
    transaction forgot to void it (contract section 3)."""
    import hashlib

    basis = f"{account.account_id}|{account.email}|{account.password_hash}"
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def pending_expired(account: Account, now: float) -> bool:
    """Is this a pending account past its ``pending_expires_at`` (7 days after registration)?

    Such an account is expired: it releases its e-mail (a registration or an e-mail change
    may take the address over, removing it), its verification link answers
    ``token_expired``, a login with its password answers ``invalid_credentials``, and no
    verification link is resent for it. The one rule for all of these.

    A pending account WITHOUT ``pending_expires_at`` is not expired: registration always
    sets the date, so a missing one is never taken as licence to delete an account (the
    store's conditional delete, ``pending_expires_at <= now``, refuses it anyway).
    """
    expires = account.pending_expires_at
    return account.status == PENDING and expires is not None and expires <= now


def personal_words(account: Account) -> list[str]:
    """What a password may not contain: names, numéro d'intitulé, the e-mail's local part."""
    words = [account.first_name, account.last_name, account.tenant_number, account.email.split("@", 1)[0]]
    return [w for w in words if w]


IOS = "ios"
ANDROID = "android"
PLATFORMS = (IOS, ANDROID)
MAX_DEVICES = 5  # per account; registering a sixth removes the least recently registered
MAX_DEVICE_TOKEN_BYTES = 4096  # FCM tokens are ~160 characters, APNs tokens 64 hex digits


@dataclass(frozen=True)
class Device:
    """A phone of the account that receives push notifications (contract section 10).

    ``token`` is the platform's device token (APNs or FCM), which belongs to one account at a
    time; ``sequence`` orders the account's registrations (the lowest is the least recently
    registered, removed first); ``endpoint_arn`` is its SNS platform endpoint, once created.
    """

    account_id: str
    platform: str  # ios | android
    token: str
    registered_at: str  # instant
    sequence: int = 0
    endpoint_arn: str | None = None


def device_token_digest(token: str) -> str:
    """What keys a device token in storage: a token may be 4 KiB, a key may not."""
    import hashlib

    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Session:
    """One login on one device: a refresh-token family (see :mod:`oph.accounts.sessions`)."""

    session_id: str
    account_id: str
    generation: int  # the account's session_generation at login
    expires_at: int  # epoch seconds; slides at each rotation
    refresh_hash: str = ""  # SHA-256 of the one refresh token currently valid
    revoked: bool = False

    def is_live(self, now: float) -> bool:
        return not self.revoked and self.expires_at > now


@dataclass(frozen=True)
class RefreshToken:
    """A refresh token ever issued (kept after rotation, so that reuse is recognised)."""

    token_hash: str
    session_id: str
    account_id: str
    expires_at: int


@dataclass(frozen=True)
class LoginFailures:
    """The login lock's counter for one e-mail (see :mod:`oph.accounts.login_lock`)."""

    failures: int
    locked_until: float  # epoch seconds, fractional; 0 when not locked
    expires_at: float  # the counter is forgotten then (TTL)
