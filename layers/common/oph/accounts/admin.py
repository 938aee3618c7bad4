"""What the office's admins do by hand: disable or re-enable an online account.

The runbook (DynamoDB console, TenantsTable) and this function make the same change on the
item ``ACCOUNT#<account id>`` / ``ACCOUNT`` (found through ``EMAIL#<e-mail>`` / ``EMAIL``, see
:mod:`oph.accounts.account_store`):
``disabled`` set to true or false and, when disabling, ``session_generation`` incremented so
every token issued before is refused from its next use on (after re-enabling, the holder
logs in again). While ``disabled`` is true, every authenticated request and every login with
the right password answers 403 ``account_disabled``.
"""

from __future__ import annotations

from oph.accounts.account_store import account_store
from oph.platform.observability import count, get_logger


def set_disabled(email: str, disabled: bool) -> bool:
    """Disable (revoking every session) or re-enable the account of ``email``; False if none."""
    store = account_store()
    account = store.get_by_email(email)
    if account is None or not store.set_disabled(account.account_id, disabled):  # none, or deleted meanwhile
        return False
    count("AccountsDisabled" if disabled else "AccountsEnabled")
    get_logger().info("account status changed by an admin", extra={"account": account.account_id, "disabled": disabled})
    return True
