"""TokenStore and its twin obey the same contract."""

from __future__ import annotations

import pytest

from oph.accounts import token_store as tokens
from oph.accounts.token_store import TokenStore, hash_token
from oph.platform import clock
from oph.platform.errors import TokenExpired, TokenInvalid
from oph.platform.transaction import RaceLost, Transaction
from tests.stores.conftest import twin_or_real
from tests.twins.accounts import MemoryTokenStore

store = twin_or_real(TokenStore, MemoryTokenStore)


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.set_offset(0)


def test_an_issued_token_is_peeked_without_being_consumed(store):
    raw = store.issue(tokens.CHANGE_EMAIL, "a1", 60, {"new_email": "new@exemple.com"})
    for _ in range(2):
        token = store.peek(tokens.CHANGE_EMAIL, raw)
    assert (token.kind, token.subject, token.token_hash) == (tokens.CHANGE_EMAIL, "a1", hash_token(raw))
    assert token.data == {"new_email": "new@exemple.com"}


@pytest.mark.parametrize("raw", ["", "unknown", "x" * 513])
def test_unknown_tokens_are_invalid(store, raw):
    with pytest.raises(TokenInvalid):
        store.peek(tokens.VERIFY_EMAIL, raw)


def test_a_token_is_only_good_for_its_kind(store):
    raw = store.issue(tokens.RESET_PASSWORD, "a1", 60)
    with pytest.raises(TokenInvalid):
        store.peek(tokens.VERIFY_EMAIL, raw)


def test_a_newer_token_supersedes_the_older_ones(store):
    first = store.issue(tokens.VERIFY_EMAIL, "a1", 60)
    second = store.issue(tokens.VERIFY_EMAIL, "a1", 60)
    with pytest.raises(TokenInvalid):
        store.peek(tokens.VERIFY_EMAIL, first)
    assert store.peek(tokens.VERIFY_EMAIL, second).subject == "a1"
    other = store.issue(tokens.VERIFY_EMAIL, "a2", 60)  # another subject: independent
    assert store.peek(tokens.VERIFY_EMAIL, second) and store.peek(tokens.VERIFY_EMAIL, other)


def test_an_expired_token_answers_expired(store):
    raw = store.issue(tokens.RESET_PASSWORD, "a1", 60)
    clock.set_offset(61)
    with pytest.raises(TokenExpired):
        store.peek(tokens.RESET_PASSWORD, raw)


def test_a_token_is_consumed_once(store):
    raw = store.issue(tokens.VERIFY_EMAIL, "a1", 60)
    token = store.peek(tokens.VERIFY_EMAIL, raw)
    Transaction(store.consume_items(token)).commit()
    with pytest.raises(TokenInvalid):
        store.peek(tokens.VERIFY_EMAIL, raw)
    with pytest.raises(TokenInvalid):
        Transaction(store.consume_items(token)).commit()


def test_a_superseded_token_cannot_be_consumed(store):
    raw = store.issue(tokens.VERIFY_EMAIL, "a1", 60)
    token = store.peek(tokens.VERIFY_EMAIL, raw)
    store.issue(tokens.VERIFY_EMAIL, "a1", 60)
    with pytest.raises(TokenInvalid):
        Transaction(store.consume_items(token)).commit()


def test_an_expired_token_cannot_be_consumed(store):
    raw = store.issue(tokens.VERIFY_EMAIL, "a1", 60)
    token = store.peek(tokens.VERIFY_EMAIL, raw)
    clock.set_offset(61)
    with pytest.raises(TokenInvalid):
        Transaction(store.consume_items(token)).commit()


def test_issue_items_take_effect_only_when_committed(store):
    raw, items = store.issue_items(tokens.CHANGE_EMAIL, "a1", 60, {"new_email": "n@exemple.com"})
    with pytest.raises(TokenInvalid):
        store.peek(tokens.CHANGE_EMAIL, raw)
    Transaction(items).commit()
    assert store.peek(tokens.CHANGE_EMAIL, raw).data == {"new_email": "n@exemple.com"}


def test_revoke_voids_every_outstanding_token(store):
    raw = store.issue(tokens.RESET_PASSWORD, "a1", 60)
    Transaction(store.revoke_items(tokens.RESET_PASSWORD, "a1")).commit()
    Transaction(store.revoke_items(tokens.RESET_PASSWORD, "nobody")).commit()  # nothing to revoke: fine
    with pytest.raises(TokenInvalid):
        store.peek(tokens.RESET_PASSWORD, raw)


def test_withdraw_voids_only_the_named_token(store):
    old = store.issue(tokens.CHANGE_EMAIL, "a1", 60)
    new = store.issue(tokens.CHANGE_EMAIL, "a1", 60)
    with pytest.raises(RaceLost):  # no longer the current one
        Transaction(store.withdraw_item(tokens.CHANGE_EMAIL, "a1", hash_token(old))).commit()
    assert store.peek(tokens.CHANGE_EMAIL, new)
    Transaction(store.withdraw_item(tokens.CHANGE_EMAIL, "a1", hash_token(new))).commit()
    with pytest.raises(TokenInvalid):
        store.peek(tokens.CHANGE_EMAIL, new)
