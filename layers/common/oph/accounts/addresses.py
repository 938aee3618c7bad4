"""Who holds an e-mail address: the account its uniqueness item names.

Shared by registration and the e-mail change, which both decide, before their transaction,
whether an address is free, theirs, released by an expired pending account
(:func:`oph.accounts.model.pending_expired`) or someone else's.
"""

from __future__ import annotations

from oph.accounts.account_store import account_store
from oph.accounts.model import Account


def email_owner(email: str) -> tuple[str | None, Account | None]:
    """(account id holding the address, that account) — the id alone for an orphan pointer.

    The raw pointer is read, not ``get_by_email``: a pointer whose account is gone must still
    be seen, or a conditional write on it could never succeed.
    """
    store = account_store()
    account_id = store.email_owner(email)
    if account_id is None:
        return None, None
    return account_id, store.get(account_id)
