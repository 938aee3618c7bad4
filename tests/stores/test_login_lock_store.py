"""LoginLockStore and its twin obey the same contract."""

from __future__ import annotations

from oph.accounts.login_lock_store import LoginLockStore
from oph.accounts.model import LoginFailures
from tests.stores.conftest import twin_or_real
from tests.twins.accounts import MemoryLoginLockStore

store = twin_or_real(LoginLockStore, MemoryLoginLockStore)


def test_the_counter_is_a_compare_and_set(store):
    assert store.get("jean@exemple.com") is None
    assert store.compare_and_set("jean@exemple.com", None, LoginFailures(1, 0.0, 1000.0)) is True
    assert store.compare_and_set("jean@exemple.com", None, LoginFailures(1, 0.0, 1000.0)) is False  # exists now
    assert store.compare_and_set("jean@exemple.com", 3, LoginFailures(4, 0.0, 1000.0)) is False  # changed meanwhile
    assert store.compare_and_set("jean@exemple.com", 1, LoginFailures(5, 12.345, 2000.0)) is True
    assert store.get(" JEAN@exemple.com") == LoginFailures(5, 12.345, 2000.0)  # keyed by the normalised e-mail


def test_reset_forgets_the_counter(store):
    store.compare_and_set("jean@exemple.com", None, LoginFailures(1, 0.0, 1000.0))
    store.delete("jean@exemple.com")
    store.delete("nobody@exemple.com")
    assert store.get("jean@exemple.com") is None
    assert store.compare_and_set("jean@exemple.com", None, LoginFailures(1, 0.0, 1000.0)) is True
