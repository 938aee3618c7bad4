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

import time
from dataclasses import dataclass
from urllib.parse import quote

from oph.accounts import token_store as tokens
from oph.accounts.model import ACTIVE, PENDING, Account, AccountRepository, account_key, normalize_email
from oph.accounts.password_policy import check_password
from oph.accounts.passwords import hash_password
from oph.platform import aws, clock
from oph.platform.errors import FieldErrors, ServiceUnavailable, TokenExpired, TokenInvalid
from oph.platform.mail import Email, compose, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.rate_limit_store import RateLimiter, hashed
from oph.platform.settings import get_settings

RESET_TTL = 3600
LINKS_PER_HOUR = 5
RESET_LIMIT_NAME = "reset_password"
# Every forgot request lasts at least this long, so the mail sent for a known address
# cannot be told apart from the nothing done for an unknown one.
MIN_FORGOT_SECONDS = 0.4


@dataclass(frozen=True)
class ResetOutcome:
    email: str


def personal_words(account: Account) -> list[str]:
    local_part = account.email.split("@", 1)[0]
    return [w for w in (account.first_name, account.last_name, account.tenant_number, local_part) if w]


def request_reset(email: str) -> None:
    """POST /v1/auth/password/forgot: always the same 202, in the same time."""
    started = time.monotonic()
    try:
        _request_reset(normalize_email(email))
    finally:
        left = MIN_FORGOT_SECONDS - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)


def _request_reset(email: str) -> None:
    limiter = RateLimiter()
    key = hashed(email)
    account = AccountRepository().get_by_email(email) if email else None
    if account is not None and account.status == PENDING:
        expires = account.pending_expires_at
        if expires is None or expires > clock.now_ts():
            _send_verification(account)
        return
    count_so_far, _ = limiter.current(RESET_LIMIT_NAME, key)
    if account is None or account.status != ACTIVE or count_so_far >= LINKS_PER_HOUR:
        return
    limiter.hit(RESET_LIMIT_NAME, key, 3600)
    raw = tokens.TokenStore().issue(tokens.RESET_PASSWORD, account.account_id, RESET_TTL)
    url = get_settings().link(f"/links/reset-password?token={quote(raw)}")
    _send(
        compose(
            "Réinitialisation de votre mot de passe",
            [
                f"Bonjour {account.first_name},".replace(" ,", ","),
                "Vous avez demandé à réinitialiser le mot de passe de votre compte Mon espace locataire. "
                "Pour choisir un nouveau mot de passe, cliquez sur le bouton ci-dessous.",
            ],
            to=account.email,
            link=("Choisir un nouveau mot de passe", url),
            after_link=[
                "Ce lien est valable 1 heure et ne peut servir qu'une fois. "
                "Si vous en demandez un nouveau, celui-ci ne fonctionnera plus.",
                "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail : "
                "votre mot de passe actuel reste inchangé.",
            ],
        )
    )
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
    token = tokens.TokenStore().peek(tokens.RESET_PASSWORD, raw or "")
    account = AccountRepository().get(token.subject)
    if account is None or account.status != ACTIVE:
        raise TokenInvalid()
    return account


def reset_password(raw: str, password: str, confirmation: str) -> ResetOutcome:
    """POST /v1/auth/password/reset (and the page's form): new password, every session revoked."""
    store = tokens.TokenStore()
    token: tokens.Token | None = None
    token_error: TokenInvalid | TokenExpired | None = None
    account: Account | None = None
    try:
        token = store.peek(tokens.RESET_PASSWORD, raw or "")
        account = AccountRepository().get(token.subject)
        if account is None or account.status != ACTIVE:
            token_error = TokenInvalid()
    except (TokenInvalid, TokenExpired) as exc:
        token_error = exc
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
    tenants_table = get_settings().tenants_table
    items = [
        *store.consume_items(token),
        {
            "Update": {
                "TableName": tenants_table,
                "Key": account_key(account.account_id),
                "UpdateExpression": "SET password_hash = :h, password_changed_at = :at ADD session_generation :one",
                "ConditionExpression": "attribute_exists(pk) AND #s = :active",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {
                    ":h": {"S": new_hash},
                    ":at": {"S": clock.iso_instant()},
                    ":one": {"N": "1"},
                    ":active": {"S": ACTIVE},
                },
            }
        },
    ]
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) == "TransactionCanceledException":
            raise TokenInvalid() from None  # used, superseded or account gone meanwhile
        raise
    from oph.accounts import login_lock as login_throttle

    # The link proves control of the address: the holder may log in straight away. The reset
    # is committed and its link used: a failure here must not turn it into a 503 whose retry
    # could only answer token_invalid (the lock then simply runs out).
    try:
        login_throttle.reset(account.email)
    except ServiceUnavailable:
        get_logger().warning("login lock not cleared after a password reset: database unavailable")
    count("PasswordsReset")
    _send(
        compose(
            "Votre mot de passe a été modifié",
            [
                f"Bonjour {account.first_name},".replace(" ,", ","),
                f"Le mot de passe de votre compte Mon espace locataire a été modifié le "
                f"{clock.now().strftime('%d/%m/%Y à %H:%M')} (heure UTC).",
                "Par sécurité, vous avez été déconnecté de tous vos appareils : connectez-vous à nouveau "
                "avec votre nouveau mot de passe.",
                "Si vous n'êtes pas à l'origine de ce changement, réinitialisez immédiatement votre mot de passe "
                "depuis l'application (« Mot de passe oublié ») et contactez l'Office.",
            ],
            to=account.email,
        )
    )
    return ResetOutcome(account.email)
