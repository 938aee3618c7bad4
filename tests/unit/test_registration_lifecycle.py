"""Registration's rules against the twins (no AWS): replacing a pending account, single-use
and superseded links, and the one expiry rule of pending accounts."""

from __future__ import annotations

import re

import pytest

from oph.accounts import no_enumeration, password_reset, registration, sessions
from oph.accounts import token_store as tokens
from oph.accounts.model import ACTIVE, PENDING, Account, pending_expired
from oph.platform import clock
from oph.platform.errors import EmailNotVerified, InvalidCredentials, TokenExpired, TokenInvalid
from oph.tenancy.model import Holder
from tests.factories import PASSWORD, Tenant, make_account, make_tenant
from tests.twins.accounts import AccountsTwin, memory_accounts

DAY = 24 * 3600


@pytest.fixture
def twin():
    clock.set_offset(0)
    with memory_accounts() as accounts:
        yield accounts
    clock.set_offset(0)


def _registration_token(twin: AccountsTwin, holder: Holder) -> str:
    data = {"tenant_number": holder.tenant_number, "first_name": holder.first_name, "last_name": holder.last_name}
    return twin.tokens.issue(tokens.REGISTRATION, holder.holder_id, 1800, data)


def _register(twin: AccountsTwin, tenant: Tenant, email: str, token: str | None = None) -> dict:
    return registration.register(
        registration_token=token or _registration_token(twin, tenant.holder),
        email=email,
        email_confirmation=email,
        password=PASSWORD,
        password_confirmation=PASSWORD,
        accept_terms=True,
    )


def _links(twin: AccountsTwin, to: str) -> list[str]:
    return [m.group(1) for mail in twin.outbox.to(to) if (m := re.search(r"verify-email\?token=([\w-]+)", mail.text))]


def _make_pending(twin: AccountsTwin, tenant: Tenant, email: str, expires_at: int | None) -> Account:
    account = make_account(tenant, email)
    twin.accounts.items[account.account_id].update(status=PENDING, pending_expires_at=expires_at)
    if expires_at is None:
        twin.accounts.items[account.account_id].pop("pending_expires_at")
    return twin.accounts.get(account.account_id)


# -- the one expiry rule ---------------------------------------------------------------------


def _account(status: str, expires: int | None) -> Account:
    return Account("a1", "123456", "h1", "jean@exemple.com", status, "hash", pending_expires_at=expires)


@pytest.mark.parametrize(
    ("status", "expires", "expired"),
    [(PENDING, 99, True), (PENDING, 100, True), (PENDING, 101, False), (PENDING, None, False), (ACTIVE, 99, False)],
)
def test_a_pending_account_expires_at_its_date_and_never_without_one(status, expires, expired):
    assert pending_expired(_account(status, expires), 100) is expired


# -- replacing a pending account ---------------------------------------------------------------


def test_registering_again_while_pending_replaces_the_account_and_frees_the_old_address(twin):
    tenant = make_tenant()
    _register(twin, tenant, "typo@exemple.com")
    [old_link] = _links(twin, "typo@exemple.com")
    assert _register(twin, tenant, "jean@exemple.com") == {
        "status": "pending_verification",
        "email": "jean@exemple.com",
    }

    account = twin.accounts.get_by_holder(tenant.holder.holder_id)
    assert (account.email, account.status) == ("jean@exemple.com", PENDING)
    assert list(twin.accounts.items) == [account.account_id]  # the old account is gone whole
    assert twin.accounts.email_owner("typo@exemple.com") is None
    with pytest.raises(TokenInvalid):  # its link died with it
        registration.verify_email(old_link)
    [link] = _links(twin, "jean@exemple.com")
    assert registration.verify_email(link) == {"status": ACTIVE}


def test_registering_again_with_the_same_address_keeps_it(twin):
    tenant = make_tenant()
    _register(twin, tenant, "jean@exemple.com")
    first = twin.accounts.get_by_holder(tenant.holder.holder_id)
    _register(twin, tenant, " JEAN@exemple.com")
    second = twin.accounts.get_by_holder(tenant.holder.holder_id)
    assert second.account_id != first.account_id
    assert twin.accounts.email_owner("jean@exemple.com") == second.account_id
    assert list(twin.accounts.items) == [second.account_id]


def test_a_registration_token_is_used_once(twin):
    tenant = make_tenant()
    token = _registration_token(twin, tenant.holder)
    _register(twin, tenant, "jean@exemple.com", token)
    with pytest.raises(TokenInvalid):
        _register(twin, tenant, "autre@exemple.com", token)


# -- verification links ----------------------------------------------------------------------


def test_only_the_newest_verification_link_works_and_only_once(twin):
    tenant = make_tenant()
    _register(twin, tenant, "jean@exemple.com")
    registration.send_verification(twin.accounts.get_by_email("jean@exemple.com"))
    first, newest = _links(twin, "jean@exemple.com")
    with pytest.raises(TokenInvalid):
        registration.check_verification_link(first)
    registration.check_verification_link(newest)  # the page's GET consumes nothing
    assert registration.verify_email(newest) == {"status": ACTIVE}
    with pytest.raises(TokenInvalid):
        registration.verify_email(newest)
    assert twin.accounts.get_by_email("jean@exemple.com").status == ACTIVE


def test_a_verification_link_lasts_24_hours(twin):
    _register(twin, make_tenant(), "jean@exemple.com")
    [link] = _links(twin, "jean@exemple.com")
    clock.set_offset(DAY)
    with pytest.raises(TokenExpired):
        registration.verify_email(link)


# -- an expired pending account releases its address -----------------------------------------


def test_an_expired_pending_account_releases_its_address_to_another_holder(twin):
    first, second = make_tenant(), make_tenant()
    _register(twin, first, "jean@exemple.com")
    _register(twin, second, "jean@exemple.com")  # still held: silent duplicate, a notice instead
    assert twin.accounts.get_by_holder(second.holder.holder_id) is None
    assert [m.subject for m in twin.outbox.to("jean@exemple.com")][-1].startswith("Tentative de création")

    clock.set_offset(7 * DAY)
    _register(twin, second, "jean@exemple.com")
    taker = twin.accounts.get_by_email("jean@exemple.com")
    assert taker.holder_id == second.holder.holder_id
    assert twin.accounts.get_by_holder(first.holder.holder_id) is None  # removed whole
    assert len(twin.accounts.items) == 1


def test_an_expired_pending_account_cannot_verify_log_in_nor_get_links(twin, monkeypatch):
    monkeypatch.setattr(no_enumeration, "MIN_SECONDS", 0.0)
    account = _make_pending(twin, make_tenant(), "jean@exemple.com", int(clock.now_ts()) - 1)
    raw = twin.tokens.issue(tokens.VERIFY_EMAIL, account.account_id, DAY)  # a live link
    with pytest.raises(TokenExpired):
        registration.check_verification_link(raw)
    with pytest.raises(TokenExpired):
        registration.verify_email(raw)
    with pytest.raises(InvalidCredentials):
        sessions.login("jean@exemple.com", PASSWORD)
    registration.resend_verification("jean@exemple.com")
    password_reset.request_reset("jean@exemple.com")
    assert twin.outbox.sent == []


def test_a_pending_account_without_expiry_date_holds_its_address(twin):
    holder_of = _make_pending(twin, make_tenant(), "jean@exemple.com", None)
    clock.set_offset(365 * DAY)
    with pytest.raises(EmailNotVerified):
        sessions.login("jean@exemple.com", PASSWORD)
    intruder = make_tenant()
    _register(twin, intruder, "jean@exemple.com")
    assert twin.accounts.email_owner("jean@exemple.com") == holder_of.account_id
    assert twin.accounts.get_by_holder(intruder.holder.holder_id) is None
