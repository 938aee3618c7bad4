"""Registration use cases: the app's "Inscription étape 1/2", "étape 2/2" and the e-mail link.

Step 1 lives in :mod:`oph.accounts.identity_check` (the holder matched against the office's
records, and its throttling); it hands out the registration token step 2 takes.

Step 2 (:func:`register`) creates a pending account. The account and its two uniqueness items
(see :mod:`oph.accounts.account_store`), the consumption of the registration token, the
removal of a pending account being replaced and the new verification token are written in
ONE conditional transaction: concurrent submissions can never give two accounts, and nothing
is half-written. A condition that fails because someone else moved first
makes the whole step run again on fresh reads, so the answer is always a 2xx or a 4xx. The
e-mail is sent after the write: if SES fails the tenant gets 503, and the pending account is
there for "resend".

If the e-mail already belongs to another account (active, or pending and not expired), the
answer is the same and that address receives a notice instead: nothing reveals which
addresses have accounts. A pending account not verified within 7 days releases its e-mail
(:func:`oph.accounts.model.pending_expired`).

Step 3 (:func:`verify_email`) activates the account with the newest verification token
(24 hours, single use). :func:`resend_verification` sends a fresh one, at most 5 times an
hour per address; the auth function uses it too (forgotten password of a pending account).
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from oph.accounts import token_store as tokens
from oph.accounts.account_store import account_store
from oph.accounts.addresses import email_owner
from oph.accounts.mails import duplicate_notice, verification_email
from oph.accounts.model import ACTIVE, PENDING, Account, pending_expired
from oph.accounts.no_enumeration import uniform_duration
from oph.accounts.password_policy import check_password
from oph.accounts.passwords import hash_password
from oph.accounts.token_store import Token, token_store
from oph.platform import clock
from oph.platform.errors import (
    AccountExists,
    FieldErrors,
    ServiceUnavailable,
    TokenExpired,
    TokenInvalid,
)
from oph.platform.mail import Email, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.rate_limit_store import hashed, rate_limiter
from oph.platform.transaction import RaceLost, Transaction, Write
from oph.platform.validation import is_valid_email, normalize_email, require_email_length

TERMS_VERSION = "2024-01"  # version of the CGU the tenant accepts at step 2

VERIFY_TTL = 24 * 3600
PENDING_TTL = 7 * 24 * 3600

RESEND_WINDOW = 3600
RESEND_LIMIT = 5
RESENDS = "reg-resend"

WRITE_ATTEMPTS = 8  # fresh reads and a new transaction after a lost race

EMAIL_INVALID = "L'adresse e-mail n'est pas valide."
EMAIL_MISMATCH = "La confirmation ne correspond pas à l'adresse e-mail saisie."
PASSWORD_MISMATCH = "La confirmation ne correspond pas au mot de passe saisi."


# ---------------------------------------------------------------- input checks
def registration_problems(
    *,
    email: str,
    email_confirmation: str,
    password: str,
    password_confirmation: str,
    accept_terms: bool,
    personal_words: list[str],
) -> FieldErrors:
    """Every failing field of step 2 at once (the 422 lists them all)."""
    problems = FieldErrors()
    normalized = normalize_email(email)
    if not normalized:
        problems.add("email", "required")
    elif not is_valid_email(normalized):
        problems.add("email", "invalid_format", EMAIL_INVALID)
    if normalize_email(email_confirmation) != normalized:
        problems.add("email_confirmation", "mismatch", EMAIL_MISMATCH)
    explanation = check_password(password, personal_words=[*personal_words, normalized])
    if explanation:
        problems.add("password", "password_policy", explanation)
    if password_confirmation != password:
        problems.add("password_confirmation", "mismatch", PASSWORD_MISMATCH)
    if accept_terms is not True:
        problems.add("accept_terms", "terms_not_accepted")
    return problems


# ---------------------------------------------------------------- step 2
def register(
    *,
    registration_token: str,
    email: str,
    email_confirmation: str,
    password: str,
    password_confirmation: str,
    accept_terms: bool,
) -> dict[str, Any]:
    """Create (or replace) the pending account and send the link; the 201 body."""
    token: Token | None = None
    token_error: TokenInvalid | TokenExpired | None = None
    try:
        token = token_store().peek(tokens.REGISTRATION, registration_token)
    except (TokenInvalid, TokenExpired) as exc:
        token_error = exc
    personal = []
    if token is not None:
        personal = [str(token.data.get(k, "")) for k in ("first_name", "last_name", "tenant_number")]
    registration_problems(
        email=email,
        email_confirmation=email_confirmation,
        password=password,
        password_confirmation=password_confirmation,
        accept_terms=accept_terms,
        personal_words=personal,
    ).raise_if_any()  # validation comes before the token's own answer (contract order)
    if token_error is not None:
        raise token_error
    assert token is not None
    normalized = normalize_email(email)
    account, raw = _write_until_done(registration_token, token, normalized, hash_password(password))
    count("RegistrationsStarted")
    if account is None:
        _send(duplicate_notice(normalized))
    else:
        _send(verification_email(account.email, raw, account.first_name, account.last_name))
    return {"status": "pending_verification", "email": normalized}


def _write_until_done(raw_token: str, token: Token, email: str, password_hash: str) -> tuple[Account | None, str]:
    """Write the registration, on fresh reads again after each lost race (503 after
    ``WRITE_ATTEMPTS``)."""
    for attempt in range(WRITE_ATTEMPTS):
        if attempt:
            _pause(attempt)
            token = token_store().peek(tokens.REGISTRATION, raw_token)  # used or superseded meanwhile?
        try:
            return _write_registration(token, email, password_hash)
        except RaceLost:
            continue
    raise ServiceUnavailable()


def _write_registration(token: Token, email: str, password_hash: str) -> tuple[Account | None, str]:
    """One attempt: (account, raw verification token) when written, (None, "") for the silent
    duplicate path; ``RaceLost`` when someone else wrote first.

    In ONE transaction: the registration token is consumed, a pending account of the same
    holder being replaced is removed, and either the new account and its two uniqueness items
    are written with a verification token (the address is free, ours, or released by an
    expired pending account, removed with it), or nothing else (the address is another
    account's: its owner is told instead).
    """
    accounts = account_store()
    holder_id = token.subject
    now = int(clock.now_ts())
    current = accounts.get_by_holder(holder_id)
    if current is not None and current.status != PENDING:
        raise AccountExists()
    owner_id, owner = email_owner(email)

    writes = token_store().consume_items(token)
    if current is not None:  # redoing steps 1 and 2 while pending: the old account goes
        writes += _remove_pending(current, keep_email=email)
    own_email = owner_id is not None and current is not None and owner_id == current.account_id
    released = owner_id is not None and (owner is None or pending_expired(owner, now))
    if owner_id is not None and not own_email and not released:
        # Silent duplicate path: same answer, the address's owner is told instead.
        if current is not None:
            writes.append(accounts.release_holder_item(holder_id, current.account_id))
        Transaction(*writes).commit()
        return None, ""

    account = _new_pending_account(token, email, password_hash, now)
    replaced = current.account_id if current is not None else None
    writes += [
        accounts.create_item(account),
        accounts.put_holder_pointer_item(holder_id, account.account_id, previous=replaced),
        accounts.put_email_pointer_item(email, account.account_id, previous=owner_id),
    ]
    if owner is not None and not own_email:  # an expired pending account releases the address
        writes += [
            accounts.remove_pending_item(owner.account_id, expired_at=now),
            accounts.release_holder_item(owner.holder_id, owner.account_id),
            *token_store().revoke_items(tokens.VERIFY_EMAIL, owner.account_id),
        ]
    raw, token_writes = token_store().issue_items(tokens.VERIFY_EMAIL, account.account_id, VERIFY_TTL)
    Transaction(*writes, *token_writes).commit()
    return account, raw


def _new_pending_account(token: Token, email: str, password_hash: str, now: int) -> Account:
    data = token.data
    instant = clock.iso_instant()
    return Account(
        account_id=str(uuid.uuid4()),
        tenant_number=str(data.get("tenant_number", "")),
        holder_id=token.subject,
        email=email,
        status=PENDING,
        password_hash=password_hash,
        first_name=str(data.get("first_name", "")),
        last_name=str(data.get("last_name", "")),
        created_at=instant,
        pending_expires_at=now + PENDING_TTL,
        terms_version=TERMS_VERSION,
        terms_accepted_at=instant,
    )


def _remove_pending(account: Account, *, keep_email: str) -> list[Write]:
    """The pending account being replaced, its verification links, and its address unless
    the new account keeps it."""
    accounts = account_store()
    writes = [
        accounts.remove_pending_item(account.account_id),
        *token_store().revoke_items(tokens.VERIFY_EMAIL, account.account_id),
    ]
    if account.email != keep_email:
        writes.append(accounts.release_email_item(account.email, account.account_id))
    return writes


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.02 * attempt))  # jitter, not a secret


# ---------------------------------------------------------------- step 3
def check_verification_link(raw: str) -> None:
    """What the link page shows on GET: raises token_invalid / token_expired, never consumes."""
    _pending_account(token_store().peek(tokens.VERIFY_EMAIL, raw))


def _pending_account(token: Token) -> Account:
    account = account_store().get(token.subject)
    if account is None or account.status != PENDING:
        raise TokenInvalid()
    if pending_expired(account, clock.now_ts()):
        raise TokenExpired()
    return account


def verify_email(raw: str) -> dict[str, Any]:
    """Activate the account the link was sent for (single use, newest link only)."""
    for attempt in range(WRITE_ATTEMPTS):
        if attempt:
            _pause(attempt)
        token = token_store().peek(tokens.VERIFY_EMAIL, raw)
        account = _pending_account(token)
        accounts = account_store()
        try:
            Transaction(
                token_store().consume_items(token),
                accounts.activate_item(account.account_id, clock.iso_instant(), fails_with=TokenInvalid),
                accounts.email_pointer_check_item(account.email, account.account_id),
            ).commit()
        except RaceLost:
            continue
        count("RegistrationsCompleted")
        return {"status": ACTIVE}
    raise ServiceUnavailable()


# ---------------------------------------------------------------- resend
def resend_verification(email: str) -> None:
    """A fresh link for a pending account of that address (earlier links stop working).

    Says nothing about the address either way (a mail outage included); at most
    ``RESEND_LIMIT`` an hour per address. Also used by the forgotten-password route for
    pending accounts, so both share the same budget.
    """
    normalized = require_email_length(email)
    with uniform_duration():  # a pending address must not answer slower than an unknown one
        _resend(normalized)


def _resend(normalized: str) -> None:
    if not is_valid_email(normalized):
        return
    account = account_store().get_by_email(normalized)
    if account is None or account.status != PENDING or account.email != normalized:
        return
    if pending_expired(account, clock.now_ts()):
        return  # expired: the address is released, a new registration is needed
    if rate_limiter().hit(RESENDS, hashed(normalized), RESEND_WINDOW) > RESEND_LIMIT:
        return
    try:
        send_verification(account)
    except ServiceUnavailable:
        # A mail outage must not become a 503 that only addresses with a pending account get.
        get_logger().warning("verification e-mail not resent: mail service unavailable")


def send_verification(account: Account) -> None:
    """Issue a new verification token (superseding the older ones) and e-mail the link."""
    raw = token_store().issue(tokens.VERIFY_EMAIL, account.account_id, VERIFY_TTL)
    _send(verification_email(account.email, raw, account.first_name, account.last_name))


def _send(email: Email) -> None:
    try:
        get_mailer().send(email)
    except ServiceUnavailable:
        raise
    except Exception as exc:  # e.g. an address SES refuses: a clear 503, never a 500
        get_logger().warning("verification e-mail not sent", extra={"error": type(exc).__name__})
        raise ServiceUnavailable() from exc
