"""Changing the identifier (e-mail) of an account: request, link, atomic swap.

Request (``POST /v1/account/email``): current password, then a single-use link (24 hours,
``tokens.CHANGE_EMAIL``, subject = account id, newest only) goes to the new address from the
office's address, and the old address is told. The old e-mail keeps working until the link
is used. An address already used by another account gets the very same answer (no
enumeration): no link is sent, its owner is told instead, and the request simply expires.

Confirmation (``POST /v1/account/email/confirm``), only by the same authenticated account:
one transaction deletes the old address's uniqueness item, creates the new one (only if the
address is free, or held by an expired pending account, see
:func:`oph.accounts.model.pending_expired`, which is removed with it), updates the account
and consumes the token. Two accounts confirming the same address concurrently: exactly one
transaction commits, the other answers 409 ``email_taken`` and changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

from oph.accounts import token_store as tokens
from oph.accounts.account_store import account_store
from oph.accounts.addresses import email_owner
from oph.accounts.mails import address_in_use_email, change_requested_email, confirmation_email, email_changed_email
from oph.accounts.model import Account, pending_expired
from oph.accounts.profile import account_view, send_best_effort, verify_current_password
from oph.accounts.token_store import token_store
from oph.platform import clock
from oph.platform.errors import (
    ApiError,
    EmailTaken,
    ServiceUnavailable,
    TokenInvalid,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from oph.platform.mail import get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.rate_limit_store import rate_limiter
from oph.platform.settings import get_settings
from oph.platform.transaction import RaceLost, Transaction, Write
from oph.platform.validation import is_valid_email, normalize_email

LINK_TTL_SECONDS = 24 * 3600
# A legitimate holder changes their address once or twice; more is someone mail-bombing.
REQUESTS_PER_HOUR = 10
CHANGE_REQUESTS = "email_change"
_MAX_ATTEMPTS = 4


def _taken_by_other(account: Account, email: str) -> bool:
    owner_id, owner = email_owner(email)
    if owner_id is None or owner_id == account.account_id:
        return False
    return not (owner is not None and pending_expired(owner, clock.now_ts()))


# -- request -------------------------------------------------------------------------------


def request_email_change(account: Account, new_email: str, current_password: str) -> dict[str, Any]:
    """Record the request, send the link (or the "someone tried" notice) and tell the old address."""
    new = normalize_email(new_email)
    if not is_valid_email(new):
        raise ValidationFailed.single("new_email", "invalid_format", "L'adresse e-mail n'est pas valide.")
    if new == account.email:
        raise ValidationFailed.single(
            "new_email", "invalid_format", "La nouvelle adresse e-mail doit être différente de l'adresse actuelle."
        )
    _charge_request(account, current_password)

    taken = _taken_by_other(account, new)
    # A token is stored even when the address is taken (nobody receives it): the request looks
    # and costs the same either way, and it supersedes any earlier link.
    raw, writes = token_store().issue_items(
        tokens.CHANGE_EMAIL, account.account_id, LINK_TTL_SECONDS, {"new_email": new}
    )
    expires_at = int(clock.now_ts()) + LINK_TTL_SECONDS
    # Unauthorized: the account was deleted or changed meanwhile.
    request = account_store().request_email_item(account, new, expires_at, fails_with=Unauthorized)
    try:
        Transaction(writes, request).commit()
    except RaceLost:
        raise ServiceUnavailable() from None
    count("EmailChangeRequested")
    _tell(account, new, raw, taken)
    account.pending_email, account.pending_email_expires_at = new, expires_at
    return account_view(account)


def _tell(account: Account, new: str, raw: str, taken: bool) -> None:
    """The old address first (a request it was not told about must not go through), then the
    link to the new one, or the "someone tried" notice to its owner."""
    mailer = get_mailer()
    try:
        mailer.send(change_requested_email(account, new))
        if taken:
            count("EmailChangeToTakenAddress")
            mailer.send(address_in_use_email(new))
        else:
            mailer.send(confirmation_email(new, get_settings().link(f"/links/confirm-email?token={raw}")))
    except Exception:
        _withdraw_request(account, tokens.hash_token(raw), new)
        raise


def _charge_request(account: Account, current_password: str) -> None:
    """Count the request against the hourly budget and check the current password.

    The check and the count are one conditional write (no burst can slip past the limit
    between them); a request refused for its password is given back, since it already
    counts toward the login lock.
    """
    limiter = rate_limiter()
    charge = limiter.charge(CHANGE_REQUESTS, account.account_id, limit=REQUESTS_PER_HOUR, window=3600)
    if not charge.counted:
        raise TooManyRequests(retry_after=charge.seconds_left)
    try:
        verify_current_password(account, current_password)
    except ApiError:
        limiter.refund(CHANGE_REQUESTS, account.account_id)
        raise


def _withdraw_request(account: Account, token_hash: str, new: str) -> None:
    """The e-mails could not be sent (503): leave no pending request nobody was told about."""
    try:
        Transaction(
            token_store().withdraw_item(tokens.CHANGE_EMAIL, account.account_id, token_hash),
            account_store().withdraw_email_request_item(account.account_id, new),
        ).commit()
    except Exception:  # a newer request replaced it, or the database is down too: it expires alone
        get_logger().warning("e-mail change request not withdrawn after a mail failure")


# -- confirmation --------------------------------------------------------------------------


def confirm_email_change(account: Account, raw_token: str) -> dict[str, Any]:
    token = token_store().peek(tokens.CHANGE_EMAIL, raw_token)
    if token.subject != account.account_id:
        raise TokenInvalid()  # another account's link: same answer as an unknown one
    new = normalize_email(str(token.data.get("new_email") or ""))
    if not is_valid_email(new):
        raise TokenInvalid()
    # Every read comes before the swap: once it is committed the link is used, and a 503 then
    # would leave the holder's retry nothing but token_invalid.
    view = account_view(account)
    for attempt in range(_MAX_ATTEMPTS):
        try:
            _swap(account, token, new)
            break
        except RaceLost:  # a concurrent transaction, or the expired pending account changed
            time.sleep(0.05 * (2**attempt))
    else:
        raise ServiceUnavailable(retry_after=1)
    count("EmailChanged")
    send_best_effort(email_changed_email(account, new), "email_changed")
    # What the swap wrote (see ``_swap``): the new address, deliverable, no request pending.
    return {**view, "email": new, "pending_email": None, "email_status": "ok"}


def _swap(account: Account, token: tokens.Token, new: str) -> None:
    """One transaction: the new address claimed (409 ``email_taken`` if someone else holds
    it), the token consumed (``token_invalid`` if used or superseded), the old address
    released and the account updated (401 if the account was deleted or changed meanwhile).
    ``RaceLost``: look again."""
    accounts = account_store()
    me = account.account_id
    owner_id, owner = email_owner(new)
    takeover: list[Write] = []
    if owner_id is None or owner_id == me:
        claim = accounts.claim_email_item(new, me, fails_with=EmailTaken)
    elif owner is not None and pending_expired(owner, clock.now_ts()):
        # The address moved meanwhile (no declared error): look again.
        claim = accounts.put_email_pointer_item(new, me, previous=owner_id)
        takeover = _takeover(account, owner)
    else:
        raise EmailTaken()
    Transaction(
        claim,
        token_store().consume_items(token),
        accounts.release_email_item(account.email, me, fails_with=Unauthorized),
        accounts.change_email_item(account, new, clock.iso_instant(), fails_with=Unauthorized),
        token_store().void_account_links_items(me, consumed=tokens.CHANGE_EMAIL),
        takeover,
    ).commit()


def _takeover(account: Account, owner: Account) -> list[Write]:
    """A pending account never verified within 7 days releases its address: remove it in the
    same transaction (and its holder item, if it still points to it)."""
    accounts = account_store()
    writes = [accounts.remove_pending_item(owner.account_id, expired_at=int(clock.now_ts()))]
    other_holder = owner.holder_id and owner.holder_id != account.holder_id
    if other_holder and accounts.holder_owner(owner.holder_id) == owner.account_id:
        writes.append(accounts.release_holder_item(owner.holder_id, owner.account_id))
    return writes


# -- the /links/confirm-email page ---------------------------------------------------------


def check_confirmation_link(raw_token: str) -> None:
    """Raises ``token_invalid`` / ``token_expired`` for a dead link; never consumes it."""
    token_store().peek(tokens.CHANGE_EMAIL, raw_token)
