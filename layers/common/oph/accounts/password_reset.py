"""Forgotten password ("Mot de passe oublié"): the reset link and the reset itself.

``request_reset`` answers the same way, in the same time, whatever the address: an active
account gets a link (1 hour, newest only, at most 5 per hour per address), a pending
account a fresh verification link instead (24 hours, counted with registration's resends),
anything else nothing. Nothing about the account changes until the link is used.

``reset_password`` checks the policy first (a 422 leaves the token usable), then consumes
the token, stores the new hash and revokes every session in one transaction, and tells
the holder by e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from oph.accounts import login_lock
from oph.accounts import token_store as tokens
from oph.accounts.account_store import account_store
from oph.accounts.mails import password_reset_email, reset_link_email
from oph.accounts.model import ACTIVE, PENDING, Account, credentials_fingerprint, pending_expired, personal_words
from oph.accounts.no_enumeration import uniform_duration
from oph.accounts.password_policy import check_password
from oph.accounts.passwords import hash_password
from oph.accounts.token_store import token_store
from oph.platform import clock
from oph.platform.errors import FieldErrors, ServiceUnavailable, TokenExpired, TokenInvalid
from oph.platform.mail import Email, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.rate_limit_store import RateLimiter, hashed
from oph.platform.settings import get_settings
from oph.platform.transaction import RaceLost, Transaction
from oph.platform.validation import require_email_length

RESET_TTL = 3600
LINKS_PER_HOUR = 5
RESET_LIMIT_NAME = "reset_password"


@dataclass(frozen=True)
class ResetOutcome:
    email: str


def request_reset(email: str) -> None:
    """POST /v1/auth/password/forgot: always the same 202, in the same time."""
    normalized = require_email_length(email)
    with uniform_duration():
        _request_reset(normalized)


def _request_reset(email: str) -> None:
    limiter = RateLimiter()
    key = hashed(email)
    account = account_store().get_by_email(email) if email else None
    if account is not None and account.status == PENDING:
        if not pending_expired(account, clock.now_ts()):
            _send_verification(account)
        return
    count_so_far, _ = limiter.current(RESET_LIMIT_NAME, key)
    if account is None or account.status != ACTIVE or count_so_far >= LINKS_PER_HOUR:
        return
    limiter.hit(RESET_LIMIT_NAME, key, 3600)
    fingerprint = {"credentials": credentials_fingerprint(account)}
    raw = token_store().issue(tokens.RESET_PASSWORD, account.account_id, RESET_TTL, data=fingerprint)
    url = get_settings().link(f"/links/reset-password?token={quote(raw)}")
    _send(reset_link_email(account, url))
    count("PasswordResetLinksSent")


def _send_verification(account: Account) -> None:
    # Registration's own resend: same link, same e-mail, same 5-per-hour budget per address.
    from oph.accounts.registration import resend_verification

    try:
        resend_verification(account.email)
    except ServiceUnavailable:
        get_logger().warning("verification e-mail not sent: mail service unavailable")


def _send(message: Email) -> None:
    # A mail outage must not turn this answer into a 503 that only known addresses get.
    try:
        get_mailer().send(message)
    except ServiceUnavailable:
        get_logger().warning("password reset / verification e-mail not sent: mail service unavailable")


def check_reset_token(raw: str) -> Account:
    """The account a reset link belongs to, without consuming it (the page's GET)."""
    _, account, error = _reset_target(raw)
    if error is not None:
        raise error
    assert account is not None
    return account


def _reset_target(raw: str) -> tuple[tokens.Token | None, Account | None, TokenInvalid | TokenExpired | None]:
    """(token, its active account, or the error the link deserves)."""
    try:
        token = token_store().peek(tokens.RESET_PASSWORD, raw or "")
    except (TokenInvalid, TokenExpired) as exc:
        return None, None, exc
    account = account_store().get(token.subject)
    if account is None or not account.in_service:
        return token, account, TokenInvalid()
    if token.data.get("credentials") != credentials_fingerprint(account):
        return token, account, TokenInvalid()  # the e-mail or the password changed since it was sent
    return token, account, None


def reset_password(raw: str, password: str, confirmation: str) -> ResetOutcome:
    """POST /v1/auth/password/reset (and the page's form): new password, every session revoked."""
    token, account, token_error = _reset_target(raw)
    # Validation (422) comes before the use case's own rules (400 token_*), and does not
    # consume the token: the holder corrects the form and submits the same link again.
    errors = FieldErrors()
    message = check_password(password, personal_words=personal_words(account) if account else ())
    if message:
        errors.add("password", "password_policy", message)
    if confirmation != password:
        errors.add("password_confirmation", "mismatch")
    errors.raise_if_any()
    if token_error is not None:
        raise token_error
    assert token is not None and account is not None
    new_hash = hash_password(password)
    # token_invalid: used, superseded or account gone meanwhile.
    change = account_store().reset_password_item(account, new_hash, clock.iso_instant(), TokenInvalid)
    voided = token_store().void_account_links_items(account.account_id, consumed=tokens.RESET_PASSWORD)
    try:
        Transaction(token_store().consume_items(token), change, voided).commit()
    except RaceLost:
        raise ServiceUnavailable() from None
    # The link proves control of the address: the holder may log in straight away. The reset
    # is committed and its link used: a failure here must not turn it into a 503 whose retry
    # could only answer token_invalid (the lock then simply runs out).
    try:
        login_lock.reset(account.email)
    except ServiceUnavailable:
        get_logger().warning("login lock not cleared after a password reset: database unavailable")
    count("PasswordsReset")
    _send(password_reset_email(account))
    return ResetOutcome(account.email)
