"""RateLimiter and its twin obey the same contract."""

from __future__ import annotations

from oph.platform import clock
from oph.platform.rate_limit_store import RateLimiter
from tests.stores.conftest import twin_or_real
from tests.twins.platform import MemoryRateLimiter

store = twin_or_real(RateLimiter, MemoryRateLimiter)


def test_hit_counts_in_one_window_then_starts_another(store, clock_offset):
    assert [store.hit("n", "k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.current("n", "k")[0] == 3
    clock_offset(61)
    assert store.current("n", "k") == (0, 0.0)
    assert store.hit("n", "k", 60) == 1


def test_charge_stops_counting_at_the_limit(store):
    charges = [store.charge("n", "k", limit=3, window=3600) for _ in range(5)]
    assert [c.counted for c in charges] == [True, True, True, False, False]
    assert [c.count for c in charges[:3]] == [1, 2, 3]
    assert 3590 < charges[4].seconds_left <= 3600
    assert store.current("n", "k")[0] == 3  # refused charges count nothing


def test_refund_gives_a_charge_back_and_never_goes_below_zero(store):
    store.charge("n", "k", limit=2, window=60)
    store.charge("n", "k", limit=2, window=60)
    store.refund("n", "k")
    assert store.charge("n", "k", limit=2, window=60).counted
    for _ in range(5):
        store.refund("n", "k")
    assert store.current("n", "k")[0] == 0


def test_lock_until_keeps_the_window_past_its_end(store, clock_offset):
    store.charge("n", "k", limit=1, window=60)
    store.lock_until("n", "k", clock.now_ts() + 3600)
    clock_offset(600)
    assert not store.charge("n", "k", limit=1, window=60).counted
    clock_offset(3601)
    assert store.charge("n", "k", limit=1, window=60).counted


def test_reset_forgets(store):
    store.hit("n", "k", 60)
    store.reset("n", "k")
    assert store.current("n", "k") == (0, 0.0)
