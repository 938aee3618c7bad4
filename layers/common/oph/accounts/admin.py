"""What the office's admins do to an online account: disable it, or re-enable it.

Admins run it from the AWS console (Lambda → ``<stack>-account-admin`` → Test, event
``{"email": "…", "disabled": true}``, see README "Operations"); the local server's
``POST /_dev/accounts/status`` invokes the same function. Disabling is one transaction that
does everything by itself: ``disabled`` set, every session revoked (the account's
``session_generation`` goes up, so every token issued before is refused from its next use on
and re-enabling never revives one), every outstanding reset or confirm-email link voided, and
every phone registered for push notifications removed (the app registers it again after the
next login, once re-enabled).
While disabled, every authenticated request and every login with the right password answers
403 ``account_disabled``; after re-enabling, the holder logs in again.

Before this function, the runbook asked admins to bump ``session_generation`` by hand in the
DynamoDB console. An account disabled that way is still handled: the first request with one
of its tokens revokes every session (:func:`oph.accounts.access_tokens.authenticate`).
"""

from __future__ import annotations

from oph.accounts import devices
from oph.accounts.account_store import account_store
from oph.accounts.token_store import token_store
from oph.platform import clock
from oph.platform.errors import ServiceUnavailable
from oph.platform.observability import count, get_logger
from oph.platform.transaction import RaceLost, Transaction

BY_ADMIN = "admin"
LEFT_TENANCY = "left_tenancy"  # the holder is no longer in the office's tenants file (imports)


def set_disabled(email: str, disabled: bool) -> bool:
    """Disable (revoking every session and link) or re-enable the account of ``email``;
    False when no account uses that address."""
    account = account_store().get_by_email(email)
    if account is None:
        return False
    if disabled:
        return disable(account.account_id, BY_ADMIN)
    return enable(account.account_id)


def disable(account_id: str, reason: str) -> bool:
    """One transaction: disabled, sessions revoked, links voided, push devices removed; False
    if the account is gone."""
    disabled = account_store().disable_item(account_id, reason, clock.iso_instant(), fails_with=LookupError)
    phones = devices.removal(account_id)
    if not _commit(Transaction(disabled, token_store().void_account_links_items(account_id), phones.writes)):
        return False
    devices.removed(phones)
    count("AccountsDisabled")
    get_logger().info("account disabled", extra={"account": account_id, "reason": reason})
    return True


def enable(account_id: str, *, only_if_reason: str | None = None) -> bool:
    """Re-enable; with ``only_if_reason``, only an account disabled for that reason."""
    if not _commit(
        Transaction(account_store().enable_item(account_id, only_if_reason=only_if_reason, fails_with=LookupError))
    ):
        return False
    count("AccountsEnabled")
    get_logger().info("account enabled", extra={"account": account_id})
    return True


def _commit(transaction: Transaction) -> bool:
    try:
        transaction.commit()
    except LookupError:  # no such account (deleted meanwhile), or not disabled for that reason
        return False
    except RaceLost:
        raise ServiceUnavailable() from None
    return True
