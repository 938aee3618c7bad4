"""AccountStore and its twin obey the same contract."""

from __future__ import annotations

from dataclasses import replace

import pytest

from oph.accounts.account_store import AccountStore
from oph.accounts.model import ACTIVE, PENDING, Account
from oph.platform.errors import EmailTaken, Unauthorized
from oph.platform.transaction import RaceLost, Transaction
from tests.stores.conftest import twin_or_real
from tests.twins.accounts import MemoryAccountStore

store = twin_or_real(AccountStore, MemoryAccountStore)

AT = "2024-05-01T10:00:00Z"


def _account(account_id: str = "a1", email: str = "jean@exemple.com", holder_id: str = "h1", **kw) -> Account:
    values = {"status": ACTIVE, "password_hash": "$2b$04$old", "first_name": "Jean", "last_name": "DUPOND"}
    values.update(kw)
    return Account(account_id, "123456", holder_id, email, **values)  # type: ignore[arg-type]


def _create(store, account: Account) -> Account:
    Transaction(
        store.create_item(account),
        store.put_email_pointer_item(account.email, account.account_id, previous=None),
        store.put_holder_pointer_item(account.holder_id, account.account_id, previous=None),
    ).commit()
    return account


def test_an_account_is_read_by_id_email_and_holder(store):
    _create(store, _account())
    assert store.get("a1").email == "jean@exemple.com"
    assert store.get_by_email(" JEAN@exemple.com ").account_id == "a1"
    assert store.get_by_holder("h1").account_id == "a1"
    assert store.email_owner("jean@exemple.com") == "a1" and store.holder_owner("h1") == "a1"
    assert store.get("nobody") is None and store.get_by_email("x@exemple.com") is None
    assert store.get_by_holder("nobody") is None and store.email_owner("x@exemple.com") is None
    account = store.get("a1")
    assert account.preferences == {
        "notice_emails": True,
        "receipts_by_email": False,
        "push_notices": True,
        "push_payments": True,
    }
    assert account.session_generation == 0 and account.disabled is False


def test_many_holders_accounts_are_read_at_once(store):
    _create(store, _account())
    _create(store, _account("a2", "marie@exemple.com", "h2", first_name="Marie"))
    Transaction(store.put_holder_pointer_item("h3", "gone", previous=None)).commit()  # its account is gone
    unknown = [f"nobody-{n}" for n in range(105)]  # more keys than one BatchGetItem takes
    found = store.get_by_holders(["h1", "h2", "h1", "h3", *unknown])
    assert {holder: account.account_id for holder, account in found.items()} == {"h1": "a1", "h2": "a2"}
    assert found["h2"] == store.get_by_holder("h2")  # the same account, preferences and all
    assert store.get_by_holders([]) == {} and store.get_by_holders(iter(["h1"]))["h1"].email == "jean@exemple.com"


def test_attributes_are_every_stored_value(store):
    _create(store, _account(pending_email=None))
    values = store.attributes("a1")
    assert values["pk"] == "ACCOUNT#a1" and values["password_hash"] == "$2b$04$old"
    assert "pending_email" not in values  # None values are not stored
    assert store.attributes("nobody") is None


def test_one_account_per_email_and_per_holder(store):
    _create(store, _account())
    with pytest.raises(EmailTaken):
        Transaction(
            store.put_email_pointer_item("jean@exemple.com", "a2", previous=None, fails_with=EmailTaken)
        ).commit()
    with pytest.raises(RaceLost):
        Transaction(store.put_holder_pointer_item("h1", "a2", previous=None)).commit()
    with pytest.raises(RaceLost):
        Transaction(store.create_item(_account())).commit()
    Transaction(store.put_holder_pointer_item("h1", "a2", previous="a1")).commit()
    assert store.holder_owner("h1") == "a2"


def test_claim_accepts_a_free_or_own_address_only(store):
    _create(store, _account())
    Transaction(store.claim_email_item("new@exemple.com", "a1")).commit()
    Transaction(store.claim_email_item("new@exemple.com", "a1")).commit()
    with pytest.raises(EmailTaken):
        Transaction(store.claim_email_item("new@exemple.com", "a2", fails_with=EmailTaken)).commit()
    assert store.email_owner("new@exemple.com") == "a1"


def test_release_only_what_points_at_the_account(store):
    _create(store, _account())
    with pytest.raises(RaceLost):
        Transaction(store.release_email_item("jean@exemple.com", "a2")).commit()
    Transaction(store.release_email_item("gone@exemple.com", "a2", or_gone=True)).commit()
    Transaction(store.release_email_item("jean@exemple.com", "a1"), store.release_holder_item("h1", "a1")).commit()
    assert store.email_owner("jean@exemple.com") is None and store.holder_owner("h1") is None


def test_a_failed_transaction_writes_nothing(store):
    _create(store, _account())
    with pytest.raises(Unauthorized):
        Transaction(
            store.release_email_item("jean@exemple.com", "a1"),
            store.email_pointer_check_item("other@exemple.com", "a1", fails_with=Unauthorized),
        ).commit()
    assert store.email_owner("jean@exemple.com") == "a1"


def test_pending_account_removal_and_activation(store):
    _create(store, _account("p1", "p@exemple.com", "h2", status=PENDING, pending_expires_at=1000))
    with pytest.raises(RaceLost):  # not expired by then
        Transaction(store.remove_pending_item("p1", expired_at=999)).commit()
    Transaction(store.activate_item("p1", AT)).commit()
    activated = store.get("p1")
    assert (activated.status, activated.verified_at, activated.pending_expires_at) == (ACTIVE, AT, None)
    with pytest.raises(RaceLost):  # active accounts are never removed as pending
        Transaction(store.remove_pending_item("p1")).commit()
    with pytest.raises(RaceLost):
        Transaction(store.activate_item("p1", AT)).commit()


def test_an_expired_pending_account_is_removed(store):
    _create(store, _account("p1", "p@exemple.com", "h2", status=PENDING, pending_expires_at=1000))
    Transaction(store.remove_pending_item("p1", expired_at=1000)).commit()
    assert store.get("p1") is None


def test_a_pending_account_without_expiry_is_never_removed_as_expired(store):
    _create(store, _account("p1", "p@exemple.com", "h2", status=PENDING))
    with pytest.raises(RaceLost):
        Transaction(store.remove_pending_item("p1", expired_at=10**10)).commit()
    Transaction(store.remove_pending_item("p1")).commit()
    assert store.get("p1") is None


def test_delete_removes_the_account_and_its_pointers(store):
    account = _create(store, _account())
    Transaction(store.delete_items(account, fails_with=Unauthorized)).commit()
    assert store.get("a1") is None and store.email_owner(account.email) is None and store.holder_owner("h1") is None
    with pytest.raises(Unauthorized):
        Transaction(store.delete_items(account, fails_with=Unauthorized)).commit()


def test_email_request_withdrawal_and_change(store):
    account = _create(store, _account(email_status="undeliverable"))
    Transaction(store.request_email_item(account, "new@exemple.com", 5000)).commit()
    stored = store.get("a1")
    assert (stored.pending_email, stored.pending_email_expires_at) == ("new@exemple.com", 5000)
    Transaction(store.withdraw_email_request_item("a1", "new@exemple.com")).commit()
    assert store.get("a1").pending_email is None
    with pytest.raises(RaceLost):
        Transaction(store.withdraw_email_request_item("a1", "new@exemple.com")).commit()
    Transaction(store.request_email_item(account, "new@exemple.com", 5000)).commit()
    Transaction(store.change_email_item(account, "new@exemple.com", AT)).commit()
    changed = store.get("a1")
    assert (changed.email, changed.email_status, changed.pending_email) == ("new@exemple.com", "ok", None)
    assert store.attributes("a1")["email_changed_at"] == AT
    with pytest.raises(Unauthorized):  # the account no longer has its old address
        Transaction(store.change_email_item(account, "other@exemple.com", AT, fails_with=Unauthorized)).commit()
    with pytest.raises(Unauthorized):
        Transaction(store.request_email_item(account, "x@exemple.com", 5000, fails_with=Unauthorized)).commit()


def test_password_change_needs_the_account_as_read(store):
    account = _create(store, _account())
    Transaction(store.change_password_item(account, "$2b$04$new", AT)).commit()
    stored = store.get("a1")
    assert (stored.password_hash, stored.session_generation) == ("$2b$04$new", 1)
    with pytest.raises(Unauthorized):  # stale hash and generation
        Transaction(store.change_password_item(account, "$2b$04$other", AT, fails_with=Unauthorized)).commit()
    Transaction(store.disable_item("a1", "admin", AT)).commit()
    with pytest.raises(RaceLost):  # disabled
        Transaction(store.change_password_item(store.get("a1"), "$2b$04$other", AT)).commit()


def test_password_reset_needs_an_active_account_with_the_same_credentials(store):
    account = _create(store, _account())
    pending = _create(store, _account("p1", "p@exemple.com", "h2", status=PENDING, pending_expires_at=1000))
    Transaction(store.reset_password_item(account, "$2b$04$new", AT)).commit()
    assert store.get("a1").session_generation == 1
    assert store.attributes("a1")["password_changed_at"] == AT
    with pytest.raises(RaceLost):
        Transaction(store.reset_password_item(pending, "$2b$04$new", AT)).commit()
    with pytest.raises(RaceLost):  # the password changed since the link was read: refused
        Transaction(store.reset_password_item(account, "$2b$04$again", AT)).commit()
    Transaction(store.disable_item("a1", "admin", AT)).commit()
    with pytest.raises(RaceLost):  # disabled
        Transaction(store.reset_password_item(store.get("a1"), "$2b$04$again", AT)).commit()


def test_generation_check_and_revocation(store):
    account = _create(store, _account())
    Transaction(store.generation_check_item(account)).commit()
    assert store.revoke_all_sessions("a1") is True
    assert store.revoke_all_sessions("nobody") is False
    with pytest.raises(Unauthorized):
        Transaction(store.generation_check_item(account, fails_with=Unauthorized)).commit()
    fresh = store.get("a1")
    Transaction(store.generation_check_item(fresh)).commit()
    Transaction(store.disable_item("a1", "admin", AT)).commit()
    assert store.get("a1").session_generation == 2
    with pytest.raises(RaceLost):
        Transaction(store.generation_check_item(replace(fresh, session_generation=2))).commit()
    with pytest.raises(RaceLost):  # only an account disabled for that reason
        Transaction(store.enable_item("a1", only_if_reason="left_tenancy")).commit()
    Transaction(store.enable_item("a1")).commit()
    assert store.get("a1").disabled is False and store.get("a1").session_generation == 2
    with pytest.raises(RaceLost):
        Transaction(store.disable_item("nobody", "admin", AT)).commit()


def test_undeliverable_only_while_the_address_is_the_accounts(store):
    _create(store, _account())
    assert store.mark_undeliverable("a1", "other@exemple.com", "bounce", AT) is False
    assert store.mark_undeliverable("a1", "jean@exemple.com", "bounce", AT) is True
    assert store.get("a1").email_status == "undeliverable"
    assert store.attributes("a1")["email_status_reason"] == "bounce"
    assert store.mark_undeliverable("nobody", "jean@exemple.com", "bounce", AT) is False


def test_preferences_change_one_at_a_time(store):
    account = _create(store, _account())
    current = {"notice_emails": True, "receipts_by_email": False}
    stored = store.update_preferences(account, {"receipts_by_email": True}, AT, current=current)
    push = {"push_notices": True, "push_payments": True}  # defaults, never stored here
    assert stored.preferences == {"notice_emails": True, "receipts_by_email": True, **push}
    assert stored.preferences_changed_at == {"receipts_by_email": AT}
    later = store.update_preferences(account, {"notice_emails": False}, "2024-06-01T00:00:00Z", current=current)
    assert later.preferences == {"notice_emails": False, "receipts_by_email": True, **push}  # both stick
    assert set(later.preferences_changed_at) == {"notice_emails", "receipts_by_email"}
    assert store.update_preferences(_account("nobody"), {"notice_emails": False}, AT, current=current) is None
