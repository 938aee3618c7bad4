"""Changing the identifier (e-mail) of an account: request, link, atomic swap.

Request (``POST /v1/account/email``): current password, then a single-use link (24 hours,
``tokens.CHANGE_EMAIL``, subject = account id, newest only) goes to the new address from the
office's address, and the old address is told. The old e-mail keeps working until the link
is used. An address already used by another account gets the very same answer (no
enumeration): no link is sent, its owner is told instead, and the request simply expires.

Confirmation (``POST /v1/account/email/confirm``), only by the same authenticated account:
one DynamoDB transaction deletes the old ``EMAIL#`` item, creates the new one (only if the
address is free, or held by an expired pending account, which is removed with it), updates
the account and consumes the token. Two accounts confirming the same address concurrently:
exactly one transaction commits, the other answers 409 ``email_taken`` and changes nothing.
"""

from __future__ import annotations

import re
import time
from typing import Any

from oph.accounts import model as accounts
from oph.accounts import token_store as tokens
from oph.accounts.model import Account, AccountRepository
from oph.accounts.profile import account_view, greeting, live_pending_email, send_best_effort, verify_current_password
from oph.platform import aws, clock
from oph.platform.errors import EmailTaken, ServiceUnavailable, TokenInvalid, Unauthorized, ValidationFailed
from oph.platform.mail import Email, compose, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.rate_limit_store import RateLimiter
from oph.platform.settings import get_settings

LINK_TTL_SECONDS = 24 * 3600
# A legitimate holder changes their address once or twice; more is someone mail-bombing.
REQUESTS_PER_HOUR = 10
_MAX_ATTEMPTS = 4

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}")


def is_valid_email(value: str) -> bool:
    """A deliverable-looking address: ASCII local part and domain, with a dot in the domain."""
    candidate = accounts.normalize_email(value)
    if len(candidate) > 254 or "@" not in candidate or len(candidate.split("@")[0]) > 64:
        return False
    return _EMAIL_RE.fullmatch(candidate) is not None


# -- who holds an address ------------------------------------------------------------------


def _pointer(email: str) -> str | None:
    with aws.unavailable_on_failure():
        item = (
            aws.dynamodb()
            .get_item(TableName=get_settings().tenants_table, Key=accounts.email_key(email), ConsistentRead=True)
            .get("Item")
        )
    return str(item["account_id"]["S"]) if item and "account_id" in item else None


def _is_expired_pending(account: Account) -> bool:
    return account.status == accounts.PENDING and (account.pending_expires_at or 0) <= clock.now_ts()


def email_owner(email: str) -> tuple[str | None, Account | None]:
    """(account id holding the address, that account) — the id alone for an orphan pointer."""
    account_id = _pointer(email)
    if account_id is None:
        return None, None
    return account_id, AccountRepository().get(account_id)


def _taken_by_other(account: Account, email: str) -> bool:
    owner_id, owner = email_owner(email)
    if owner_id is None or owner_id == account.account_id:
        return False
    return not (owner is not None and _is_expired_pending(owner))


# -- request -------------------------------------------------------------------------------


def request_email_change(account: Account, new_email: str, current_password: str) -> dict[str, Any]:
    """Record the request, send the link (or the "someone tried" notice) and tell the old address."""
    new = accounts.normalize_email(new_email)
    if not is_valid_email(new):
        raise ValidationFailed.single("new_email", "invalid_format", "L'adresse e-mail n'est pas valide.")
    if new == account.email:
        raise ValidationFailed.single(
            "new_email", "invalid_format", "La nouvelle adresse e-mail doit être différente de l'adresse actuelle."
        )
    limiter = RateLimiter()
    limiter.check("email_change", account.account_id, REQUESTS_PER_HOUR)
    verify_current_password(account, current_password)
    limiter.hit("email_change", account.account_id, 3600)

    taken = _taken_by_other(account, new)
    # A token is stored even when the address is taken (nobody receives it): the request looks
    # and costs the same either way, and it supersedes any earlier link.
    raw, items = tokens.TokenStore().issue_items(
        tokens.CHANGE_EMAIL, account.account_id, LINK_TTL_SECONDS, {"new_email": new}
    )
    expires_at = int(clock.now_ts()) + LINK_TTL_SECONDS
    items.append(
        {
            "Update": {
                "TableName": get_settings().tenants_table,
                "Key": accounts.account_key(account.account_id),
                "UpdateExpression": "SET pending_email = :n, pending_email_expires_at = :x",
                "ConditionExpression": "attribute_exists(pk) AND email = :cur",
                "ExpressionAttributeValues": {
                    ":n": {"S": new},
                    ":x": {"N": str(expires_at)},
                    ":cur": {"S": account.email},
                },
            }
        }
    )
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) == "TransactionCanceledException":
            raise Unauthorized() from None  # the account was deleted or changed meanwhile
        raise
    count("EmailChangeRequested")

    mailer = get_mailer()
    try:
        # The old address first: a request it was not told about must not go through.
        mailer.send(change_requested_email(account, new))
        if taken:
            count("EmailChangeToTakenAddress")
            mailer.send(address_in_use_email(new))
        else:
            mailer.send(confirmation_email(new, get_settings().link(f"/links/confirm-email?token={raw}")))
    except Exception:
        _withdraw_request(account, tokens.hash_token(raw), new)
        raise

    account.pending_email, account.pending_email_expires_at = new, expires_at
    return account_view(account)


def _withdraw_request(account: Account, token_hash: str, new: str) -> None:
    """The e-mails could not be sent (503): leave no pending request nobody was told about."""
    settings = get_settings()
    try:
        aws.dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": settings.tokens_table,
                        "Key": {
                            "pk": {"S": f"TOKENPTR#{tokens.CHANGE_EMAIL}#{account.account_id}"},
                            "sk": {"S": "CURRENT"},
                        },
                        "ConditionExpression": "token_hash = :h",
                        "ExpressionAttributeValues": {":h": {"S": token_hash}},
                    }
                },
                {
                    "Update": {
                        "TableName": settings.tenants_table,
                        "Key": accounts.account_key(account.account_id),
                        "UpdateExpression": "REMOVE pending_email, pending_email_expires_at",
                        "ConditionExpression": "pending_email = :n",
                        "ExpressionAttributeValues": {":n": {"S": new}},
                    }
                },
            ]
        )
    except Exception:  # a newer request replaced it, or the database is down too: it expires alone
        get_logger().warning("e-mail change request not withdrawn after a mail failure")


# -- confirmation --------------------------------------------------------------------------


class _Retry(Exception):
    """The transaction met a concurrent one: read again and decide again."""


def confirm_email_change(account: Account, raw_token: str) -> dict[str, Any]:
    token = tokens.TokenStore().peek(tokens.CHANGE_EMAIL, raw_token)
    if token.subject != account.account_id:
        raise TokenInvalid()  # another account's link: same answer as an unknown one
    new = accounts.normalize_email(str(token.data.get("new_email") or ""))
    if not is_valid_email(new):
        raise TokenInvalid()
    # Every read comes before the swap: once it is committed the link is used, and a 503 then
    # would leave the holder's retry nothing but token_invalid.
    view = account_view(account)
    for attempt in range(_MAX_ATTEMPTS):
        try:
            _swap(account, token, new)
            break
        except _Retry:
            time.sleep(0.05 * (2**attempt))
    else:
        raise ServiceUnavailable(retry_after=1)
    count("EmailChanged")
    send_best_effort(email_changed_email(account, new), "email_changed")
    # What the swap wrote (see ``_swap``): the new address, deliverable, no request pending.
    return {**view, "email": new, "pending_email": None, "email_status": "ok"}


def _swap(account: Account, token: tokens.Token, new: str) -> None:
    settings = get_settings()
    table = settings.tenants_table
    now = int(clock.now_ts())
    me = account.account_id
    owner_id, owner = email_owner(new)
    takeover: list[dict[str, Any]] = []
    if owner_id is None or owner_id == me:
        claim = "attribute_not_exists(pk) OR account_id = :me"
        claim_values = {":me": {"S": me}}
    elif owner is not None and _is_expired_pending(owner):
        # A pending account never verified within 7 days releases its address: remove it
        # in the same transaction (and its holder item, if it still points to it).
        claim = "account_id = :other"
        claim_values = {":other": {"S": owner_id}}
        takeover.append(
            {
                "Delete": {
                    "TableName": table,
                    "Key": accounts.account_key(owner_id),
                    "ConditionExpression": "#s = :pending AND pending_expires_at <= :now",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":pending": {"S": accounts.PENDING}, ":now": {"N": str(now)}},
                }
            }
        )
        if owner.holder_id and owner.holder_id != account.holder_id:
            holder_pointer = _holder_pointer(owner.holder_id)
            if holder_pointer == owner_id:
                takeover.append(
                    {
                        "Delete": {
                            "TableName": table,
                            "Key": accounts.holder_key(owner.holder_id),
                            "ConditionExpression": "account_id = :other",
                            "ExpressionAttributeValues": {":other": {"S": owner_id}},
                        }
                    }
                )
    else:
        raise EmailTaken()

    items: list[dict[str, Any]] = [
        {
            "Delete": {
                "TableName": table,
                "Key": accounts.email_key(account.email),
                "ConditionExpression": "account_id = :me",
                "ExpressionAttributeValues": {":me": {"S": me}},
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {**accounts.email_key(new), "account_id": {"S": me}},
                "ConditionExpression": claim,
                "ExpressionAttributeValues": claim_values,
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": accounts.account_key(me),
                "UpdateExpression": (
                    "SET email = :new, email_status = :ok, email_changed_at = :at "
                    "REMOVE pending_email, pending_email_expires_at, email_status_reason, email_status_at"
                ),
                "ConditionExpression": "attribute_exists(pk) AND email = :old",
                "ExpressionAttributeValues": {
                    ":new": {"S": new},
                    ":ok": {"S": "ok"},
                    ":at": {"S": clock.iso_instant()},
                    ":old": {"S": account.email},
                },
            }
        },
        *tokens.TokenStore().consume_items(token),
        *takeover,
    ]
    try:
        aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if aws.error_code(exc) != "TransactionCanceledException":
            if aws.is_retryable(exc):
                raise ServiceUnavailable() from exc
            raise
        reasons = aws.cancellation_reasons(exc)
        if any(r in ("TransactionConflict", "ThrottlingError") for r in reasons):
            raise _Retry() from None
        failed = {i for i, r in enumerate(reasons) if r not in ("None", "")}
        if 1 in failed:
            if takeover:
                raise _Retry() from None  # the expired pending account's address moved: look again
            raise EmailTaken() from None  # claimed meanwhile: nothing was written
        if failed & {3, 4}:
            raise TokenInvalid() from None  # used or superseded by a concurrent request
        if failed & {0, 2}:
            raise Unauthorized() from None  # the account was deleted or changed meanwhile
        raise _Retry() from None  # the expired pending account changed: decide again


def _holder_pointer(holder_id: str) -> str | None:
    with aws.unavailable_on_failure():
        item = (
            aws.dynamodb()
            .get_item(TableName=get_settings().tenants_table, Key=accounts.holder_key(holder_id), ConsistentRead=True)
            .get("Item")
        )
    return str(item["account_id"]["S"]) if item and "account_id" in item else None


# -- the /links/confirm-email page ---------------------------------------------------------


def check_confirmation_link(raw_token: str) -> None:
    """Raises ``token_invalid`` / ``token_expired`` for a dead link; never consumes it."""
    tokens.TokenStore().peek(tokens.CHANGE_EMAIL, raw_token)


# -- e-mails -------------------------------------------------------------------------------


def confirmation_email(new_email: str, link: str) -> Email:
    # The recipient may not be the holder (a typo): no name, nothing about the account.
    return compose(
        "Confirmez votre nouvelle adresse e-mail",
        [
            "Bonjour,",
            "Une demande a été faite pour utiliser cette adresse comme identifiant de connexion à "
            "l'espace locataire de l'Office Public de l'Habitat d'Aubervilliers.",
            "Pour confirmer ce changement, ouvrez le lien ci-dessous sur le téléphone où l'application "
            "Mon espace locataire est installée et où vous êtes connecté(e). Ce lien est valable 24 heures "
            "et ne peut servir qu'une fois.",
        ],
        to=new_email,
        link=("Confirmer ma nouvelle adresse", link),
        after_link=[
            "Tant que ce lien n'a pas été utilisé, votre adresse actuelle reste votre identifiant.",
            "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail : rien ne sera modifié.",
        ],
        sender=get_settings().office_mail_from,
    )


def address_in_use_email(address: str) -> Email:
    return compose(
        "Tentative d'utilisation de votre adresse e-mail",
        [
            "Bonjour,",
            "Quelqu'un a demandé à utiliser votre adresse e-mail comme identifiant d'un autre compte de "
            "l'espace locataire de l'Office Public de l'Habitat d'Aubervilliers. Cette adresse étant déjà "
            "associée à votre compte, aucune modification n'a été faite.",
            "Si c'était vous, connectez-vous avec cette adresse ; si vous avez oublié votre mot de passe, "
            "utilisez « Mot de passe oublié » dans l'application.",
            "Si ce n'était pas vous, vous n'avez rien à faire : votre compte n'est pas concerné.",
        ],
        to=address,
        sender=get_settings().office_mail_from,
    )


def change_requested_email(account: Account, new_email: str) -> Email:
    return compose(
        "Demande de changement de votre adresse e-mail",
        [
            greeting(account),
            f"Une demande de changement de l'adresse e-mail de votre espace locataire a été faite le "
            f"{clock.now().strftime('%d/%m/%Y à %H:%M (UTC)')}. Nouvelle adresse demandée : {new_email}.",
            "Le changement ne prendra effet que lorsque le lien envoyé à la nouvelle adresse aura été "
            "utilisé. D'ici là, vous continuez à vous connecter avec votre adresse actuelle.",
            "Si vous n'êtes pas à l'origine de cette demande, quelqu'un connaît sans doute votre mot de "
            "passe : changez-le tout de suite dans l'application (Mon compte, « Modifier mon mot de "
            "passe ») ou avec « Mot de passe oublié », puis contactez l'Office. La demande expirera "
            "d'elle-même dans 24 heures.",
        ],
        to=account.email,
    )


def email_changed_email(account: Account, new_email: str) -> Email:
    return compose(
        "Votre adresse e-mail a été modifiée",
        [
            greeting(account),
            f"L'adresse e-mail de votre espace locataire a été remplacée par {new_email}. "
            "C'est désormais elle qui vous sert d'identifiant ; cette adresse-ci ne recevra plus nos messages.",
            "Si vous n'êtes pas à l'origine de ce changement, contactez l'Office au plus vite.",
        ],
        to=account.email,
    )


__all__ = [
    "check_confirmation_link",
    "confirm_email_change",
    "is_valid_email",
    "live_pending_email",
    "request_email_change",
]
