"""Account ("Mon compte") use cases: "Mes infos", preferences, password change, deletion.

The e-mail change lives in :mod:`oph.accounts.email_change`, the GDPR export in
:mod:`oph.privacy.export`. Every function takes the caller's
:class:`~oph.accounts.model.Account` as the verifier loaded it and raises typed errors from
:mod:`oph.platform.errors`; none knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oph.accounts import devices, login_lock, sessions
from oph.accounts import token_store as tokens
from oph.accounts.account_store import account_store
from oph.accounts.mails import account_deleted_email, password_changed_email
from oph.accounts.model import DEFAULT_PREFERENCES, Account, personal_words
from oph.accounts.password_policy import check_password
from oph.accounts.passwords import hash_password, normalize_password, verify_password
from oph.accounts.token_store import token_store
from oph.platform import clock
from oph.platform.errors import CurrentPasswordInvalid, FieldErrors, ServiceUnavailable, Unauthorized
from oph.platform.mail import Email, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.transaction import RaceLost, Transaction, Write
from oph.tenancy.model import Holder, Tenancy
from oph.tenancy.store import tenancy_store

PREFERENCE_NAMES = tuple(DEFAULT_PREFERENCES)
# Token kinds whose outstanding links die with the account.
_ACCOUNT_TOKEN_KINDS = (tokens.VERIFY_EMAIL, tokens.RESET_PASSWORD, tokens.CHANGE_EMAIL)


# -- shared helpers ------------------------------------------------------------------------


def get_holder(account: Account) -> Holder | None:
    """The caller's own holder record (never the co-holders of the tenancy)."""
    return tenancy_store().get_holder(account.tenant_number, account.holder_id)


def live_pending_email(account: Account) -> str | None:
    """The requested new address while its request is alive (24 hours), else None."""
    if account.pending_email and (account.pending_email_expires_at or 0) > clock.now_ts():
        return account.pending_email
    return None


def account_view(account: Account) -> dict[str, Any]:
    """The body of ``GET /v1/account`` (contract section 4), from the office's records and the account."""
    found, holder = tenancy_store().get_tenancy_and_holder(account.tenant_number, account.holder_id)
    tenancy = found or Tenancy(account.tenant_number)
    return {
        "tenant_number": account.tenant_number,
        # The office's records are authoritative for names (a re-import may correct them).
        "first_name": (holder.first_name if holder and holder.first_name else account.first_name),
        "last_name": (holder.last_name if holder and holder.last_name else account.last_name),
        "email": account.email,
        "pending_email": live_pending_email(account),
        "email_status": account.email_status if account.email_status in ("ok", "undeliverable") else "ok",
        "contract_number": tenancy.contract_number,
        "third_party_number": tenancy.third_party_number,
        "address": tenancy.address(),
        "created_at": account.created_at,
        "terms_accepted_at": account.terms_accepted_at,
    }


def verify_current_password(account: Account, current_password: str) -> None:
    """403 ``current_password_invalid`` on a wrong password; obeys the login lock.

    A route that checks a current password (e-mail change, password change, deletion,
    direct debit) is a login attempt by another door: while the address is locked it answers
    429 with ``Retry-After`` BEFORE looking at the password (contract section 3), so a stolen
    access token cannot be used to guess it; the attempt is charged like a login's
    (:func:`oph.accounts.login_lock.begin_attempt`) and a right password resets the count.
    """
    login_lock.begin_attempt(account.email)
    if verify_password(current_password, account.password_hash):
        login_lock.reset(account.email)
        return
    count("CurrentPasswordRefused")
    raise CurrentPasswordInvalid()


def send_best_effort(email: Email, what: str) -> None:
    """A notice about a change already committed: its failure must not fail the request."""
    try:
        get_mailer().send(email)
    except Exception:
        get_logger().warning("notice e-mail not sent", extra={"notice": what})


# -- "Mes infos" ---------------------------------------------------------------------------


def get_account(account: Account) -> dict[str, Any]:
    return account_view(account)


# -- preferences ---------------------------------------------------------------------------


def get_preferences(account: Account) -> dict[str, bool]:
    return {name: account.wants(name) for name in PREFERENCE_NAMES}


def update_preferences(account: Account, changes: dict[str, bool]) -> dict[str, bool]:
    """Apply any subset; each preference whose value changes gets its change time recorded.

    ``receipts_by_email`` is the tenant's consent to electronic quittances: the time it was
    given or withdrawn is kept in ``preferences_changed_at`` (shown by the export).
    """
    current = get_preferences(account)
    changed = {k: bool(v) for k, v in changes.items() if k in PREFERENCE_NAMES and current[k] != bool(v)}
    if not changed:
        return current
    stored = account_store().update_preferences(account, changed, clock.iso_instant(), current=current)
    if stored is None:  # the account was deleted meanwhile
        raise Unauthorized()
    count("PreferencesChanged")
    return get_preferences(stored)


# -- password change -----------------------------------------------------------------------

SAME_PASSWORD = "Le nouveau mot de passe doit être différent du mot de passe actuel."


def change_password(account: Account, current_password: str, new_password: str, confirmation: str) -> dict[str, Any]:
    """Check, store, revoke every earlier token, and open a fresh session (the login body)."""
    problems = FieldErrors()
    explanation = check_password(new_password, personal_words=personal_words(account))
    if explanation:
        problems.add("new_password", "password_policy", explanation)
    elif normalize_password(new_password) == normalize_password(current_password):
        # Compared with the password the form gives as current, not with the stored hash: a
        # stolen access token must not turn this 422 into a way to test guesses of the real
        # one (a wrong current password still gets its 403, then the login lock).
        problems.add("new_password", "password_policy", SAME_PASSWORD)
    if confirmation != new_password:
        problems.add("new_password_confirmation", "mismatch")
    problems.raise_if_any()  # validation (422) comes before the current password (403)
    verify_current_password(account, current_password)

    new_hash = hash_password(new_password)
    generation = account.session_generation
    # One transaction: the new hash, the generation bump (what ``sessions.revoke_all_sessions``
    # does) and the caller's fresh session. No instant exists where the new password is set
    # while an earlier token still works, and a failure (503) leaves nothing written, so the
    # retry with the same current password succeeds. The new tokens are signed before it.
    session_writes, body = sessions.new_session_items(account.account_id, generation + 1)
    change = account_store().change_password_item(account, new_hash, clock.iso_instant(), fails_with=Unauthorized)
    try:
        Transaction(change, session_writes, token_store().void_account_links_items(account.account_id)).commit()
    except Unauthorized:
        # Changed by a concurrent request: another password change answers 403 as before; a
        # revocation (disabling, deletion, a reset) means this token is dead.
        fresh = account_store().get(account.account_id)
        if fresh is not None and fresh.password_hash != account.password_hash:
            raise CurrentPasswordInvalid() from None
        raise
    except RaceLost:
        raise ServiceUnavailable() from None
    fresh = Account(**{**account.__dict__, "password_hash": new_hash, "session_generation": generation + 1})
    count("PasswordChanged")
    send_best_effort(password_changed_email(fresh), "password_changed")
    return body


# -- deletion ------------------------------------------------------------------------------


def delete_account(
    account: Account, current_password: str, *, also: Callable[[], Iterable[Write]] | None = None
) -> None:
    """Remove the online account in one transaction; the office's records stay.

    Deleted: the account item (credentials), its e-mail and holder uniqueness items (so the
    holder can register again, with the same address or another), every outstanding
    e-mailed link, and the phones registered for push notifications
    (:mod:`oph.accounts.devices`). Sessions die with it: the verifier refuses a token whose
    account is gone.
    Kept (legal retention): tenancy, holders, notices, receipts and payments.

    ``also`` gives, once the password is checked, the writes of higher contexts that must
    happen with the deletion, in the same transaction (:mod:`oph.privacy.deletion`: the
    direct-debit mandates the account signed stay, but no longer name it).
    """
    verify_current_password(account, current_password)
    # Unauthorized: deleted (or changed) by a concurrent request, this token's account is gone.
    writes = account_store().delete_items(account, fails_with=Unauthorized)
    if also is not None:
        writes += list(also())
    for kind in _ACCOUNT_TOKEN_KINDS:
        for subject in dict.fromkeys((account.account_id, account.email)):
            writes += token_store().revoke_items(kind, subject)
    phones = devices.removal(account.account_id)
    writes += phones.writes
    try:
        Transaction(writes).commit()
    except RaceLost:
        raise ServiceUnavailable() from None
    devices.removed(phones)
    count("AccountDeleted")
    send_best_effort(account_deleted_email(account), "account_deleted")
