"""Security revision 4, finding 1: e-mailed links die with the account change they predate.

A reset link works only while the account's e-mail and password are what they were when it
was sent; a password change or reset, an e-mail change, a deletion and a disabling void every
outstanding reset and confirm-email link, in the same transaction as the change. Each test
here failed on the code before the fix (the old link still reset the password).
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import unquote

import pytest

from oph.accounts import no_enumeration
from tests.factories import PASSWORD, tenant_with_login

NEW = "Nouveau-Mdp-2024!"
OTHER = "Velo-Rouge-Tulipe-93"


@pytest.fixture(autouse=True)
def _fast_forgot(monkeypatch):
    monkeypatch.setattr(no_enumeration, "MIN_SECONDS", 0.0)


@pytest.fixture
def me(runtime):
    return tenant_with_login(email=f"titulaire.{uuid.uuid4().hex[:6]}@exemple.com")[1]


def _link(outbox, path: str, to: str) -> str:
    for message in reversed(outbox()):
        if to in message["to"]:
            found = re.search(re.escape(path) + r"\?token=([A-Za-z0-9_\-%]+)", message["text"])
            if found:
                return unquote(found.group(1))
    raise AssertionError(f"no {path} link sent to {to}")


def _reset_link(client, outbox, email: str) -> str:
    assert client.post("/v1/auth/password/forgot", {"email": email}).status == 202
    return _link(outbox, "/links/reset-password", email)


def _use_reset(client, token: str):
    return client.post("/v1/auth/password/reset", {"token": token, "password": NEW, "password_confirmation": NEW})


def _assert_dead(client, token: str) -> None:
    reply = _use_reset(client, token)
    assert reply.status == 400, reply.text
    assert reply.json()["code"] == "token_invalid"
    page = client.get("/links/reset-password", query=f"token={token}")
    assert page.status == 400 and "text/html" in page.header("Content-Type")


def test_an_email_change_voids_the_reset_link_sent_to_the_old_address(client, me, outbox):
    old = me.account.email
    stale = _reset_link(client, outbox, old)
    new = f"nouvelle.{uuid.uuid4().hex[:6]}@exemple.com"
    assert (
        client.post("/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=me.access_token).status
        == 202
    )
    confirm = _link(outbox, "/links/confirm-email", new)
    assert client.post("/v1/account/email/confirm", {"token": confirm}, token=me.access_token).status == 200
    _assert_dead(client, stale)  # whoever reads the old mailbox cannot take the account over
    login = client.post("/v1/auth/login", {"email": new, "password": PASSWORD})
    assert login.status == 200  # the holder's password is untouched


def test_a_password_change_voids_reset_and_confirm_email_links(client, me, outbox):
    stale_reset = _reset_link(client, outbox, me.account.email)
    new = f"nouvelle.{uuid.uuid4().hex[:6]}@exemple.com"
    client.post("/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=me.access_token)
    stale_confirm = _link(outbox, "/links/confirm-email", new)
    changed = client.put(
        "/v1/account/password",
        {"current_password": PASSWORD, "new_password": OTHER, "new_password_confirmation": OTHER},
        token=me.access_token,
    )
    assert changed.status == 200, changed.text
    _assert_dead(client, stale_reset)
    fresh = changed.json()["access_token"]
    reply = client.post("/v1/account/email/confirm", {"token": stale_confirm}, token=fresh)
    assert reply.status == 400 and reply.json()["code"] == "token_invalid"
    assert client.get("/v1/account", token=fresh).json()["pending_email"] is None  # the request ended with its link


def test_a_password_reset_voids_the_confirm_email_link(client, me, outbox):
    new = f"nouvelle.{uuid.uuid4().hex[:6]}@exemple.com"
    client.post("/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=me.access_token)
    stale_confirm = _link(outbox, "/links/confirm-email", new)
    assert _use_reset(client, _reset_link(client, outbox, me.account.email)).status == 204
    fresh = client.post("/v1/auth/login", {"email": me.account.email, "password": NEW}).json()["access_token"]
    reply = client.post("/v1/account/email/confirm", {"token": stale_confirm}, token=fresh)
    assert reply.status == 400 and reply.json()["code"] == "token_invalid"


def test_a_reset_link_is_bound_to_the_credentials_it_was_sent_for(client, me, outbox):
    # Even a change that did not void the pointer (data restored from a backup, an admin
    # edit) cannot revive the link: it carries the fingerprint of the e-mail and password.
    stale = _reset_link(client, outbox, me.account.email)
    from oph.accounts.account_store import account_store
    from oph.platform.transaction import Transaction

    account = account_store().get(me.account.account_id)
    Transaction(account_store().reset_password_item(account, "$2b$04$" + "x" * 53, "2026-11-29T00:00:00Z")).commit()
    _assert_dead(client, stale)


def test_a_fresh_reset_link_still_works(client, me, outbox):
    assert _use_reset(client, _reset_link(client, outbox, me.account.email)).status == 204
    assert client.post("/v1/auth/login", {"email": me.account.email, "password": NEW}).status == 200


def test_disabling_voids_the_links_and_a_disabled_account_cannot_reset(client, me, outbox):
    from oph.accounts.admin import set_disabled

    stale = _reset_link(client, outbox, me.account.email)
    assert set_disabled(me.account.email, True)
    _assert_dead(client, stale)
    assert set_disabled(me.account.email, False)
    _assert_dead(client, stale)  # re-enabling revives no link either
