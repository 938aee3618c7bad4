"""SessionStore and its twin obey the same contract (with the account store they read with)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from oph.accounts.account_store import AccountStore
from oph.accounts.model import ACTIVE, Account, Session
from oph.accounts.session_store import SessionStore
from oph.platform.errors import Unauthorized
from oph.platform.transaction import RaceLost, Transaction
from tests.stores.conftest import twin_or_real
from tests.twins.accounts import MemoryAccountStore, MemorySessionStore


def _twins() -> tuple[MemoryAccountStore, MemorySessionStore]:
    accounts = MemoryAccountStore()
    return accounts, MemorySessionStore(accounts)


stores = twin_or_real(lambda: (AccountStore(), SessionStore()), _twins)

NOW = 1_700_000_000
SESSION = Session("s1", "a1", 0, NOW + 3600, "hash-1")


def test_a_session_and_its_refresh_token_are_created_together(stores):
    _, sessions = stores
    Transaction(sessions.create_items(SESSION, NOW)).commit()
    assert sessions.get("s1") == SESSION
    refresh = sessions.get_refresh("hash-1")
    assert (refresh.session_id, refresh.account_id, refresh.expires_at) == ("s1", "a1", NOW + 3600)
    assert sessions.get("nobody") is None and sessions.get_refresh("nothing") is None
    with pytest.raises(Unauthorized):
        Transaction(sessions.create_items(SESSION, NOW, fails_with=Unauthorized)).commit()


def test_rotation_replaces_the_current_refresh_token_and_keeps_the_old_one(stores):
    _, sessions = stores
    Transaction(sessions.create_items(SESSION, NOW)).commit()
    rotated = replace(SESSION, refresh_hash="hash-2", expires_at=NOW + 7200)
    Transaction(sessions.rotate_items(rotated, "hash-1", NOW + 10)).commit()
    assert sessions.get("s1") == rotated
    assert sessions.get_refresh("hash-1").session_id == "s1"  # kept: a reuse is recognised
    assert sessions.get_refresh("hash-2").expires_at == NOW + 7200
    with pytest.raises(Unauthorized):  # hash-1 is no longer current
        Transaction(
            sessions.rotate_items(replace(SESSION, refresh_hash="hash-3"), "hash-1", NOW, Unauthorized)
        ).commit()
    assert sessions.get_refresh("hash-3") is None


def test_a_revoked_session_is_dead_and_cannot_rotate(stores):
    _, sessions = stores
    Transaction(sessions.create_items(SESSION, NOW)).commit()
    assert sessions.get("s1").is_live(NOW)
    sessions.revoke("s1", "logout", NOW)
    sessions.revoke("nobody", "logout", NOW)  # nothing to revoke: fine
    assert sessions.get("s1").revoked and not sessions.get("s1").is_live(NOW)
    with pytest.raises(RaceLost):
        Transaction(sessions.rotate_items(replace(SESSION, refresh_hash="hash-2"), "hash-1", NOW)).commit()


def test_a_session_expires(stores):
    _, sessions = stores
    Transaction(sessions.create_items(SESSION, NOW)).commit()
    assert not sessions.get("s1").is_live(SESSION.expires_at)


def test_account_and_session_are_read_together(stores):
    accounts, sessions = stores
    account = Account("a1", "123456", "h1", "jean@exemple.com", ACTIVE, "$2b$04$x")
    Transaction(accounts.create_item(account)).commit()
    Transaction(sessions.create_items(SESSION, NOW)).commit()
    found, session = sessions.account_and_session("a1", "s1")
    assert found.email == "jean@exemple.com" and session == SESSION
    assert sessions.account_and_session("nobody", "none") == (None, None)
