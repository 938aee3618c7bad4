"""Login lock, e-mail change and password change rules against the twins (no AWS)."""

from __future__ import annotations

import pytest

from oph.accounts import email_change, login_lock, profile, sessions
from oph.accounts import token_store as tokens
from oph.accounts.access_tokens import authenticate
from oph.accounts.model import PENDING
from oph.platform import clock
from oph.platform.errors import (
    AccountDisabled,
    CurrentPasswordInvalid,
    EmailTaken,
    InvalidCredentials,
    TokenInvalid,
    TooManyRequests,
    Unauthorized,
)
from oph.platform.transaction import Transaction
from tests.factories import PASSWORD, log_in, make_account, make_tenant
from tests.twins.accounts import AccountsTwin, memory_accounts

NEW_PASSWORD = "Velo-Rouge-Tulipe-93"
DAY = 24 * 3600


@pytest.fixture
def twin():
    clock.set_offset(0)
    with memory_accounts() as accounts:
        yield accounts
    clock.set_offset(0)


def _bearer(token: str) -> dict:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def _fail(email: str) -> None:
    with pytest.raises(InvalidCredentials):
        sessions.login(email, "Mauvais-Passe-1")


# -- the login lock ----------------------------------------------------------------------------


def test_five_failures_are_free_then_the_delay_doubles(twin):
    account = make_account(make_tenant())
    for _ in range(5):
        _fail(account.email)
    with pytest.raises(TooManyRequests) as locked:
        sessions.login(account.email, PASSWORD)  # even the right password waits
    assert locked.value.retry_after == 1
    assert twin.locks.get(account.email).failures == 5  # a refused attempt is not counted
    clock.set_offset(1)
    _fail(account.email)
    with pytest.raises(TooManyRequests) as locked:
        sessions.login(account.email, PASSWORD)
    assert locked.value.retry_after == 2


def test_a_successful_login_resets_the_lock(twin):
    account = make_account(make_tenant())
    for _ in range(4):
        _fail(account.email)
    assert sessions.login(" " + account.email.upper(), PASSWORD)["token_type"] == "Bearer"
    assert twin.locks.get(account.email) is None
    for _ in range(5):
        _fail(account.email)  # five free failures again


def test_the_lock_is_the_same_for_unknown_addresses(twin):
    for _ in range(5):
        _fail("personne@exemple.com")
    with pytest.raises(TooManyRequests):
        sessions.login("personne@exemple.com", PASSWORD)


def test_failures_outside_a_login_count_and_are_forgotten_after_a_day(twin):
    for _ in range(5):
        login_lock.begin_attempt("jean@exemple.com")  # charged, never reset: five failures
    with pytest.raises(TooManyRequests):
        login_lock.begin_attempt("jean@exemple.com")
    clock.set_offset(DAY + 2)
    login_lock.begin_attempt("jean@exemple.com")
    assert twin.locks.get("jean@exemple.com").failures == 1


# -- the e-mail change -------------------------------------------------------------------------


def _change_link(twin: AccountsTwin, account_id: str, new: str) -> str:
    return twin.tokens.issue(tokens.CHANGE_EMAIL, account_id, DAY, {"new_email": new})


def test_confirming_swaps_the_address_atomically_and_uses_the_link(twin):
    me = make_account(make_tenant(), "ancienne@exemple.com")
    raw = _change_link(twin, me.account_id, "nouvelle@exemple.com")
    view = email_change.confirm_email_change(me, raw)
    assert (view["email"], view["pending_email"], view["email_status"]) == ("nouvelle@exemple.com", None, "ok")
    assert twin.accounts.email_owner("nouvelle@exemple.com") == me.account_id
    assert twin.accounts.email_owner("ancienne@exemple.com") is None
    assert twin.accounts.get(me.account_id).email == "nouvelle@exemple.com"
    assert [m.subject for m in twin.outbox.to("ancienne@exemple.com")] == ["Votre adresse e-mail a été modifiée"]
    with pytest.raises(TokenInvalid):
        email_change.confirm_email_change(twin.accounts.get(me.account_id), raw)


def test_an_address_taken_meanwhile_is_email_taken_and_changes_nothing(twin):
    me = make_account(make_tenant(), "ancienne@exemple.com")
    raw = _change_link(twin, me.account_id, "prise@exemple.com")
    other = make_account(make_tenant(), "prise@exemple.com")
    with pytest.raises(EmailTaken):
        email_change.confirm_email_change(me, raw)
    assert twin.accounts.email_owner("prise@exemple.com") == other.account_id
    assert twin.accounts.email_owner("ancienne@exemple.com") == me.account_id
    assert twin.tokens.peek(tokens.CHANGE_EMAIL, raw)  # nothing written: the link is unused


def test_the_transaction_itself_refuses_a_claim_lost_after_the_check(twin, monkeypatch):
    me = make_account(make_tenant(), "ancienne@exemple.com")
    raw = _change_link(twin, me.account_id, "prise@exemple.com")
    make_account(make_tenant(), "prise@exemple.com")
    monkeypatch.setattr(email_change, "email_owner", lambda address: (None, None))  # "free", says the read
    with pytest.raises(EmailTaken):
        email_change.confirm_email_change(me, raw)
    assert twin.accounts.get(me.account_id).email == "ancienne@exemple.com"


def test_an_expired_pending_account_gives_up_its_address(twin):
    me = make_account(make_tenant(), "ancienne@exemple.com")
    pending = make_account(make_tenant(), "convoitee@exemple.com")
    twin.accounts.items[pending.account_id].update(status=PENDING, pending_expires_at=int(clock.now_ts()) - 1)
    email_change.confirm_email_change(me, _change_link(twin, me.account_id, "convoitee@exemple.com"))
    assert twin.accounts.email_owner("convoitee@exemple.com") == me.account_id
    assert twin.accounts.get(pending.account_id) is None
    assert twin.accounts.holder_owner(pending.holder_id) is None


def test_a_live_pending_account_keeps_its_address(twin):
    me = make_account(make_tenant(), "ancienne@exemple.com")
    pending = make_account(make_tenant(), "convoitee@exemple.com")
    twin.accounts.items[pending.account_id].update(status=PENDING, pending_expires_at=int(clock.now_ts()) + 60)
    with pytest.raises(EmailTaken):
        email_change.confirm_email_change(me, _change_link(twin, me.account_id, "convoitee@exemple.com"))


def test_another_accounts_link_is_invalid(twin):
    me, other = make_account(make_tenant()), make_account(make_tenant())
    with pytest.raises(TokenInvalid):
        email_change.confirm_email_change(me, _change_link(twin, other.account_id, "x@exemple.com"))


# -- the password change -----------------------------------------------------------------------


def test_a_password_change_revokes_every_session_but_the_new_one(twin):
    account = make_account(make_tenant())
    other_device = sessions.login(account.email, PASSWORD)
    caller = log_in(account)
    body = profile.change_password(account, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)

    assert twin.accounts.get(account.account_id).session_generation == 1
    for token in (caller.access_token, other_device["access_token"]):
        with pytest.raises(Unauthorized):
            authenticate(_bearer(token))
    with pytest.raises(Unauthorized):
        sessions.refresh_session(other_device["refresh_token"])
    assert authenticate(_bearer(body["access_token"])).account_id == account.account_id
    assert sessions.refresh_session(body["refresh_token"])["token_type"] == "Bearer"
    assert [m.subject for m in twin.outbox.to(account.email)] == ["Votre mot de passe a été modifié"]
    assert sessions.login(account.email, NEW_PASSWORD)["token_type"] == "Bearer"


def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failure(twin):
    account = make_account(make_tenant())
    caller = log_in(account)
    with pytest.raises(CurrentPasswordInvalid):
        profile.change_password(account, "Mauvais-Passe-1", NEW_PASSWORD, NEW_PASSWORD)
    assert twin.locks.get(account.email).failures == 1
    assert authenticate(_bearer(caller.access_token)).account_id == account.account_id


def test_a_change_racing_another_one_is_refused(twin):
    stale = make_account(make_tenant())
    profile.change_password(stale, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    with pytest.raises(CurrentPasswordInvalid):  # checked against what the caller read, refused by the write
        profile.change_password(stale, PASSWORD, "Lune-Verte-Cactus-17", "Lune-Verte-Cactus-17")
    assert sessions.login(stale.email, NEW_PASSWORD)


def test_a_change_racing_a_disabling_is_refused(twin):
    account = make_account(make_tenant())
    Transaction(twin.accounts.disable_item(account.account_id, "admin", "2026-11-29T00:00:00Z")).commit()
    with pytest.raises(Unauthorized):
        profile.change_password(account, PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    with pytest.raises(AccountDisabled):
        sessions.login(account.email, PASSWORD)
