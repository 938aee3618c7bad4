"""Registration use cases: the app's "Inscription étape 1/2", "étape 2/2" and the e-mail link.

Step 1 (:func:`start_registration`) checks the holder against the office's records (see
``oph.tenancy``: forgiving about form, strict about substance) and hands out a registration
token (30 minutes, subject = holder id, only accepted by step 2). Failures are counted per
numéro d'intitulé (tenant number) and per client IP; past the limits every step-1 attempt is
refused with 429 until the window ends, correct ones included.

Step 2 (:func:`register`) creates a pending account. The account item and its two uniqueness
items (``EMAIL#`` and ``HOLDER#``, see ``oph.accounts``), the consumption of the registration
token, the removal of a pending account being replaced and the new verification token are
written in ONE conditional DynamoDB transaction: concurrent submissions can never give two
accounts, and nothing is half-written. A condition that fails because someone else moved first
makes the whole step run again on fresh reads, so the answer is always a 2xx or a 4xx. The
e-mail is sent after the write: if SES fails the tenant gets 503, and the pending account is
there for "resend".

If the e-mail already belongs to another account (active, or pending and not expired), the
answer is the same and that address receives a notice instead: nothing reveals which
addresses have accounts. A pending account not verified within 7 days releases its e-mail.

Step 3 (:func:`verify_email`) activates the account with the newest verification token
(24 hours, single use). :func:`resend_verification` sends a fresh one, at most 5 times an
hour per address; the auth function uses it too (forgotten password of a pending account).
"""

from __future__ import annotations

import random
import re
import time
import uuid
from datetime import date
from typing import Any
from urllib.parse import quote

from oph.accounts import model as accounts
from oph.accounts import token_store as tokens
from oph.accounts.model import ACTIVE, PENDING, Account, AccountRepository
from oph.accounts.password_policy import check_password
from oph.accounts.passwords import hash_password
from oph.accounts.token_store import Token, TokenStore
from oph.platform import aws, clock
from oph.platform.errors import (
    AccountExists,
    FieldErrors,
    IdentityMismatch,
    ServiceUnavailable,
    TokenExpired,
    TokenInvalid,
    TooManyRequests,
)
from oph.platform.mail import Email, compose, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.rate_limit_store import RateLimiter, hashed
from oph.platform.settings import get_settings
from oph.tenancy.model import Holder, normalize_tenant_number
from oph.tenancy.store import TenancyStore

TERMS_VERSION = "2024-01"  # version of the CGU the tenant accepts at step 2

REGISTRATION_TTL = 30 * 60
VERIFY_TTL = 24 * 3600
PENDING_TTL = 7 * 24 * 3600

FAILURE_WINDOW = 3600
TENANT_FAILURE_LIMIT = 10
IP_FAILURE_LIMIT = 50
TENANT_FAILURES = "reg-identity-tenant"
IP_FAILURES = "reg-identity-ip"

RESEND_WINDOW = 3600
RESEND_LIMIT = 5
RESENDS = "reg-resend"

WRITE_ATTEMPTS = 8  # fresh reads and a new transaction after a lost race

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TENANT_NUMBER = re.compile(r"[0-9A-Z]{1,32}")
_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)

EMAIL_INVALID = "L'adresse e-mail n'est pas valide."
EMAIL_MISMATCH = "La confirmation ne correspond pas à l'adresse e-mail saisie."
PASSWORD_MISMATCH = "La confirmation ne correspond pas au mot de passe saisi."
BIRTH_DATE_INVALID = "La date de naissance doit être une date au format AAAA-MM-JJ."


# ---------------------------------------------------------------- input checks
def is_valid_email(value: str) -> bool:
    """A plain, deliverable address (what SES accepts): ASCII, one @, a domain with a TLD."""
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def is_valid_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_identity_fields(tenant_number: str, last_name: str, first_name: str, birth_date: str) -> None:
    problems = FieldErrors()
    for field, value in (
        ("tenant_number", tenant_number),
        ("last_name", last_name),
        ("first_name", first_name),
        ("birth_date", birth_date),
    ):
        if not value.strip():
            problems.add(field, "required")
    if birth_date.strip() and not is_valid_date(birth_date.strip()):
        problems.add("birth_date", "invalid_format", BIRTH_DATE_INVALID)
    problems.raise_if_any()


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
    normalized = accounts.normalize_email(email)
    if not normalized:
        problems.add("email", "required")
    elif not is_valid_email(normalized):
        problems.add("email", "invalid_format", EMAIL_INVALID)
    if accounts.normalize_email(email_confirmation) != normalized:
        problems.add("email_confirmation", "mismatch", EMAIL_MISMATCH)
    explanation = check_password(password, personal_words=[*personal_words, normalized])
    if explanation:
        problems.add("password", "password_policy", explanation)
    if password_confirmation != password:
        problems.add("password_confirmation", "mismatch", PASSWORD_MISMATCH)
    if accept_terms is not True:
        problems.add("accept_terms", "terms_not_accepted")
    return problems


# ---------------------------------------------------------------- step 1
def start_registration(
    tenant_number: str, last_name: str, first_name: str, birth_date: str, *, client_ip: str
) -> dict[str, Any]:
    """Match the holder; 200 body with a registration token, or a typed error."""
    _check_identity_fields(tenant_number, last_name, first_name, birth_date)
    number = normalize_tenant_number(tenant_number)
    limiter = RateLimiter()
    tenant_key, ip_key = hashed(number), hashed(client_ip or "unknown")
    # Both windows are read on every attempt, and the records are read the same way whatever
    # turns out to be wrong: one answer and the same work for every cause of a mismatch.
    waits = [
        left
        for (failures, left), limit in (
            (limiter.current(TENANT_FAILURES, tenant_key), TENANT_FAILURE_LIMIT),
            (limiter.current(IP_FAILURES, ip_key), IP_FAILURE_LIMIT),
        )
        if failures >= limit
    ]
    if waits:
        raise TooManyRequests(retry_after=max(waits))
    lookup = number if _TENANT_NUMBER.fullmatch(number) else "-"  # never a key DynamoDB refuses
    holders = TenancyStore().list_holders(lookup)
    matching = [h for h in holders if h.matches(last_name, first_name, birth_date.strip())]
    if not matching:
        limiter.hit(TENANT_FAILURES, tenant_key, FAILURE_WINDOW)
        limiter.hit(IP_FAILURES, ip_key, FAILURE_WINDOW)
        raise IdentityMismatch()
    holder = matching[0]
    existing = AccountRepository().get_by_holder(holder.holder_id)
    if existing is not None and existing.status == ACTIVE:
        raise AccountExists()
    raw = TokenStore().issue(tokens.REGISTRATION, holder.holder_id, REGISTRATION_TTL, data=_holder_data(holder))
    return {
        "registration_token": raw,
        "expires_in": REGISTRATION_TTL,
        "first_name": holder.first_name,
        "last_name": holder.last_name,
    }


def _holder_data(holder: Holder) -> dict[str, str]:
    return {
        "tenant_number": normalize_tenant_number(holder.tenant_number),
        "last_name": holder.last_name,
        "first_name": holder.first_name,
        "birth_date": holder.birth_date,
    }


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
    store = TokenStore()
    token: Token | None = None
    token_error: TokenInvalid | TokenExpired | None = None
    try:
        token = store.peek(tokens.REGISTRATION, registration_token)
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
    normalized = accounts.normalize_email(email)
    password_hash = hash_password(password)
    for attempt in range(WRITE_ATTEMPTS):
        if attempt:
            _pause(attempt)
            token = store.peek(tokens.REGISTRATION, registration_token)  # used or superseded meanwhile?
        outcome = _write_registration(store, token, normalized, password_hash)
        if outcome is not None:
            break
    else:
        raise ServiceUnavailable()
    count("RegistrationsStarted")
    account, raw = outcome
    if account is None:
        _send(duplicate_notice(normalized))
    else:
        _send(verification_email(account.email, raw, account.first_name, account.last_name))
    return {"status": "pending_verification", "email": normalized}


def _write_registration(
    store: TokenStore, token: Token, email: str, password_hash: str
) -> tuple[Account | None, str] | None:
    """One attempt: (account, raw verification token) when written, (None, "") for the silent
    duplicate path, None when a race was lost (the caller reads again and retries)."""
    repo = AccountRepository()
    settings = get_settings()
    table = settings.tenants_table
    holder_id = token.subject
    now = int(clock.now_ts())
    current = repo.get_by_holder(holder_id)
    if current is not None and current.status != PENDING:
        raise AccountExists()
    owner_id = _email_owner(email)
    owner = repo.get(owner_id) if owner_id else None

    items = store.consume_items(token)
    if current is not None:  # redoing steps 1 and 2 while pending: the old account goes
        items += _remove_pending_items(store, current, keep_email=email)
    own_email = owner_id is not None and current is not None and owner_id == current.account_id
    released = owner_id is not None and (
        owner is None or (owner.status == PENDING and (owner.pending_expires_at or 0) <= now)
    )
    if owner_id is not None and not own_email and not released:
        # Silent duplicate path: same answer, the address's owner is told instead.
        if current is not None:
            items.append(_delete_pointer(accounts.holder_key(holder_id), current.account_id, table))
        return (None, "") if _transact(items) else None

    data = token.data
    instant = clock.iso_instant()
    account = Account(
        account_id=str(uuid.uuid4()),
        tenant_number=str(data.get("tenant_number", "")),
        holder_id=holder_id,
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
    items.append(
        {"Put": {"TableName": table, "Item": account.to_item(), "ConditionExpression": "attribute_not_exists(pk)"}}
    )
    items.append(
        _put_pointer(accounts.holder_key(holder_id), account.account_id, current.account_id if current else None)
    )
    items.append(_put_pointer(accounts.email_key(email), account.account_id, owner_id))
    if owner_id is not None and not own_email and owner is not None:  # an expired pending account
        items += [
            {
                "Delete": {
                    "TableName": table,
                    "Key": accounts.account_key(owner.account_id),
                    "ConditionExpression": "#s = :pending AND pending_expires_at <= :now",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":pending": {"S": PENDING}, ":now": {"N": str(now)}},
                }
            },
            _delete_pointer(accounts.holder_key(owner.holder_id), owner.account_id, table),
            *store.revoke_items(tokens.VERIFY_EMAIL, owner.account_id),
        ]
    raw, token_items = store.issue_items(tokens.VERIFY_EMAIL, account.account_id, VERIFY_TTL)
    items += token_items
    return (account, raw) if _transact(items) else None


def _remove_pending_items(store: TokenStore, account: Account, *, keep_email: str) -> list[dict[str, Any]]:
    table = get_settings().tenants_table
    items: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": table,
                "Key": accounts.account_key(account.account_id),
                "ConditionExpression": "#s = :pending",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":pending": {"S": PENDING}},
            }
        },
        *store.revoke_items(tokens.VERIFY_EMAIL, account.account_id),
    ]
    if account.email != keep_email:
        items.append(_delete_pointer(accounts.email_key(account.email), account.account_id, table))
    return items


def _put_pointer(key: dict[str, Any], account_id: str, previous: str | None) -> dict[str, Any]:
    put: dict[str, Any] = {
        "TableName": get_settings().tenants_table,
        "Item": {**key, "account_id": {"S": account_id}},
    }
    if previous is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "account_id = :previous"
        put["ExpressionAttributeValues"] = {":previous": {"S": previous}}
    return {"Put": put}


def _delete_pointer(key: dict[str, Any], account_id: str, table: str) -> dict[str, Any]:
    return {
        "Delete": {
            "TableName": table,
            "Key": key,
            "ConditionExpression": "account_id = :id",
            "ExpressionAttributeValues": {":id": {"S": account_id}},
        }
    }


def _email_owner(email: str) -> str | None:
    # The raw pointer, not AccountRepository.get_by_email: a pointer whose account is gone must
    # still be seen, or the conditional Put on it could never succeed.
    with aws.unavailable_on_failure():
        item = (
            aws.dynamodb()
            .get_item(TableName=get_settings().tenants_table, Key=accounts.email_key(email), ConsistentRead=True)
            .get("Item")
        )
    return item["account_id"]["S"] if item else None


def _transact(items: list[dict[str, Any]]) -> bool:
    """True when written; False when a condition or a concurrent transaction cancelled it."""
    try:
        aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) == "TransactionCanceledException":
            return False
        if aws.is_retryable(exc):
            raise ServiceUnavailable() from exc
        raise
    return True


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.02 * attempt))  # jitter, not a secret


# ---------------------------------------------------------------- step 3
def check_verification_link(raw: str) -> None:
    """What the link page shows on GET: raises token_invalid / token_expired, never consumes."""
    _pending_account(TokenStore().peek(tokens.VERIFY_EMAIL, raw))


def _pending_account(token: Token) -> Account:
    account = AccountRepository().get(token.subject)
    if account is None or account.status != PENDING:
        raise TokenInvalid()
    if (account.pending_expires_at or 0) <= clock.now_ts():
        raise TokenExpired()
    return account


def verify_email(raw: str) -> dict[str, Any]:
    """Activate the account the link was sent for (single use, newest link only)."""
    store = TokenStore()
    table = get_settings().tenants_table
    for attempt in range(WRITE_ATTEMPTS):
        if attempt:
            _pause(attempt)
        token = store.peek(tokens.VERIFY_EMAIL, raw)
        account = _pending_account(token)
        items = [
            *store.consume_items(token),
            {
                "Update": {
                    "TableName": table,
                    "Key": accounts.account_key(account.account_id),
                    "UpdateExpression": "SET #s = :active, verified_at = :at REMOVE pending_expires_at",
                    "ConditionExpression": "#s = :pending",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {
                        ":active": {"S": ACTIVE},
                        ":pending": {"S": PENDING},
                        ":at": {"S": clock.iso_instant()},
                    },
                }
            },
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": accounts.email_key(account.email),
                    "ConditionExpression": "account_id = :id",
                    "ExpressionAttributeValues": {":id": {"S": account.account_id}},
                }
            },
        ]
        if _transact(items):
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
    normalized = accounts.normalize_email(email)
    if not is_valid_email(normalized):
        return
    account = AccountRepository().get_by_email(normalized)
    if account is None or account.status != PENDING or account.email != normalized:
        return
    if (account.pending_expires_at or 0) <= clock.now_ts():
        return  # expired: the address is released, a new registration is needed
    if RateLimiter().hit(RESENDS, hashed(normalized), RESEND_WINDOW) > RESEND_LIMIT:
        return
    try:
        send_verification(account)
    except ServiceUnavailable:
        # A mail outage must not become a 503 that only addresses with a pending account get.
        get_logger().warning("verification e-mail not resent: mail service unavailable")


def send_verification(account: Account) -> None:
    """Issue a new verification token (superseding the older ones) and e-mail the link."""
    raw = TokenStore().issue(tokens.VERIFY_EMAIL, account.account_id, VERIFY_TTL)
    _send(verification_email(account.email, raw, account.first_name, account.last_name))


# ---------------------------------------------------------------- e-mails
def verification_link(raw: str) -> str:
    return get_settings().link("/links/verify-email?token=" + quote(raw, safe=""))


def verification_email(to: str, raw: str, first_name: str = "", last_name: str = "") -> Email:
    greeting = f"Bonjour {first_name} {last_name}".strip() + ","
    return compose(
        "Confirmez votre adresse e-mail — Mon espace locataire",
        [
            greeting,
            "Votre compte Mon espace locataire est presque prêt. Pour l'activer, confirmez votre adresse "
            "e-mail avec le bouton ci-dessous, de préférence sur le téléphone où l'application est installée.",
        ],
        to=to,
        link=("Confirmer mon adresse", verification_link(raw)),
        after_link=[
            "Ce lien est valable 24 heures et ne peut servir qu'une seule fois. Passé ce délai, demandez "
            "un nouveau lien depuis l'application.",
            "Vous ne trouvez pas nos e-mails ? Pensez à regarder dans votre dossier « courrier indésirable » "
            "(spam) et ajoutez notre adresse à vos contacts.",
            "Si vous n'êtes pas à l'origine de cette inscription, ignorez simplement cet e-mail : aucun "
            "compte ne sera activé.",
        ],
    )


def duplicate_notice(to: str) -> Email:
    return compose(
        "Tentative de création de compte avec votre adresse e-mail",
        [
            "Bonjour,",
            "Quelqu'un vient d'essayer de créer un compte Mon espace locataire avec votre adresse e-mail, "
            "qui est déjà utilisée par un compte.",
            "Si c'était vous, connectez-vous simplement dans l'application avec cette adresse. Si vous avez "
            "oublié votre mot de passe, choisissez « Mot de passe oublié ? » pour le réinitialiser.",
            "Si ce n'était pas vous, vous pouvez ignorer cet e-mail : votre compte n'a pas été modifié et "
            "aucun autre compte n'a été créé avec votre adresse.",
        ],
        to=to,
        after_link=[
            "Vous ne trouvez pas nos e-mails ? Pensez à regarder dans votre dossier « courrier indésirable » (spam)."
        ],
    )


def _send(email: Email) -> None:
    try:
        get_mailer().send(email)
    except ServiceUnavailable:
        raise
    except Exception as exc:  # e.g. an address SES refuses: a clear 503, never a 500
        get_logger().warning("verification e-mail not sent", extra={"error": type(exc).__name__})
        raise ServiceUnavailable() from exc
