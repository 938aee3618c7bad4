"""Push devices' rules on the twins (no AWS): registration, moving tokens, at most five, races,
removal with the account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oph.accounts import admin, devices, profile, sessions
from oph.accounts.account_store import account_store
from oph.accounts.device_store import device_store
from oph.accounts.model import MAX_DEVICES, Account
from oph.platform import clock
from oph.platform.errors import ServiceUnavailable, Unauthorized
from oph.platform.transaction import RaceLost, Transaction
from tests.factories import PASSWORD, make_account, make_tenant
from tests.twins.accounts import AccountsTwin, memory_accounts


@pytest.fixture
def twin() -> Iterator[AccountsTwin]:
    with memory_accounts() as accounts:
        yield accounts


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):
    monkeypatch.setattr("oph.accounts.devices.time.sleep", lambda _seconds: None)


def _account(twin: AccountsTwin) -> Account:
    return make_account(make_tenant())


def _tokens(account: Account) -> list[str]:
    return [d.token for d in device_store().device_set(account.account_id).devices]


def _forgotten(twin: AccountsTwin) -> list[str]:
    return [arn for m in twin.push_queue.sent if m["kind"] == "forget" for arn in m["endpoints"]]


def _give_endpoint(account: Account, token: str) -> str:
    device = device_store().get(account.account_id, token)
    arn = f"arn:aws:sns:eu-west-3:123456789012:endpoint/GCM/oph/{token}"
    assert device_store().set_endpoint(device, arn)
    return arn


def test_a_registration_is_kept_with_its_platform_and_date(twin):
    me = _account(twin)
    devices.register_device(me, "android", "fcm-token-1")
    [device] = device_store().device_set(me.account_id).devices
    assert (device.platform, device.token, device.registered_at) == ("android", "fcm-token-1", clock.iso_instant())
    assert device_store().owner("fcm-token-1") == me.account_id


def test_the_same_token_again_changes_nothing(twin, clock_offset):
    me = _account(twin)
    devices.register_device(me, "ios", "apns-1")
    before = device_store().device_set(me.account_id)
    clock_offset(3600)
    devices.register_device(me, "ios", "apns-1")
    assert device_store().device_set(me.account_id) == before  # same date, same version


def test_a_token_registered_by_another_account_moves(twin):
    first, second = _account(twin), _account(twin)
    devices.register_device(first, "ios", "shared-phone")
    endpoint = _give_endpoint(first, "shared-phone")
    devices.register_device(second, "ios", "shared-phone")
    assert _tokens(first) == [] and _tokens(second) == ["shared-phone"]
    assert device_store().owner("shared-phone") == second.account_id
    assert endpoint not in _forgotten(twin)  # same token, same endpoint: the new owner uses it


def test_at_most_five_the_least_recently_registered_go(twin):
    me = _account(twin)
    for n in range(MAX_DEVICES):
        devices.register_device(me, "android", f"t{n}")
    oldest = _give_endpoint(me, "t0")
    devices.register_device(me, "android", "t0")  # again: changes nothing, t0 stays the oldest
    devices.register_device(me, "ios", "t5")
    devices.register_device(me, "ios", "t6")
    assert _tokens(me) == ["t2", "t3", "t4", "t5", "t6"]
    assert device_store().owner("t0") is None and device_store().owner("t1") is None
    assert _forgotten(twin) == [oldest]  # t1 had no endpoint yet


def test_a_flood_never_grows_past_five(twin):
    me = _account(twin)
    for n in range(40):
        devices.register_device(me, "ios", f"flood-{n}")
        assert len(_tokens(me)) <= MAX_DEVICES
    assert _tokens(me) == [f"flood-{n}" for n in range(35, 40)]


def test_a_new_platform_for_a_token_replaces_its_endpoint(twin):
    me = _account(twin)
    devices.register_device(me, "ios", "same-token")
    arn = _give_endpoint(me, "same-token")
    devices.register_device(me, "android", "same-token")
    device = device_store().get(me.account_id, "same-token")
    assert device.platform == "android" and device.endpoint_arn is None
    assert _forgotten(twin) == [arn]


def test_a_registration_that_lost_a_race_reads_again(twin, monkeypatch):
    """Two registrations of one account with four devices, run together: without the version
    condition both would add one (six); the second reads again and evicts the oldest."""
    me = _account(twin)
    for n in range(4):
        devices.register_device(me, "ios", f"t{n}")
    store = device_store()
    read = store.device_set
    raced = []

    def read_then_lose_the_race(account_id):
        found = read(account_id)
        if not raced:  # another phone registers between this read and this commit
            raced.append(True)
            devices.register_device(me, "android", "concurrent")
        return found

    with monkeypatch.context() as patched:
        patched.setattr(store, "device_set", read_then_lose_the_race)
        devices.register_device(me, "android", "mine")
    assert len(_tokens(me)) == MAX_DEVICES
    assert _tokens(me) == ["t1", "t2", "t3", "concurrent", "mine"]


def test_endless_races_give_up_with_503(twin, monkeypatch):
    me = _account(twin)
    store = device_store()
    read = store.device_set
    counter = iter(range(100))

    def always_raced(account_id):
        found = read(account_id)
        Transaction(store.bump_version_item(account_id, found.version)).commit()  # someone else moved it
        next(counter)
        return found

    with monkeypatch.context() as patched, pytest.raises(ServiceUnavailable):
        patched.setattr(store, "device_set", always_raced)
        devices.register_device(me, "ios", "never")
    assert store.owner("never") is None and _tokens(me) == []
    assert next(counter) == devices.ATTEMPTS


def test_a_closed_account_cannot_register(twin):
    me = _account(twin)
    account_store().revoke_all_sessions(me.account_id)  # a password change, a disabling…
    with pytest.raises(Unauthorized):
        devices.register_device(me, "ios", "late")
    assert device_store().owner("late") is None and _tokens(me) == []


def test_unregister_removes_only_the_callers_device(twin):
    me, other = _account(twin), _account(twin)
    devices.register_device(me, "ios", "mine")
    devices.register_device(other, "ios", "theirs")
    arn = _give_endpoint(me, "mine")
    devices.unregister_device(me, "theirs")  # another account's: untouched
    devices.unregister_device(me, "unknown")
    assert _tokens(other) == ["theirs"] and _forgotten(twin) == []
    devices.unregister_device(me, "mine")
    assert _tokens(me) == [] and device_store().owner("mine") is None
    assert _forgotten(twin) == [arn]


def test_deleting_the_account_removes_its_devices(twin):
    me, other = _account(twin), _account(twin)
    devices.register_device(me, "ios", "a")
    devices.register_device(me, "android", "b")
    devices.register_device(other, "android", "c")
    arn = _give_endpoint(me, "b")
    profile.delete_account(me, PASSWORD)
    assert _tokens(me) == [] and device_store().owner("a") is None and device_store().owner("b") is None
    assert device_store().device_set(me.account_id).version == 0
    assert _tokens(other) == ["c"]
    assert _forgotten(twin) == [arn]


def test_disabling_the_account_removes_its_devices_logout_does_not(twin):
    me = _account(twin)
    devices.register_device(me, "ios", "a")
    sessions.logout(sessions.start_session(me)["refresh_token"])
    assert _tokens(me) == ["a"]
    assert admin.set_disabled(me.email, True) is True
    assert _tokens(me) == [] and device_store().owner("a") is None
    assert admin.set_disabled(me.email, False) is True
    assert _tokens(me) == []  # re-enabling brings nothing back: the app registers again


def test_removal_fails_if_a_device_was_added_after_it_read(twin):
    me = _account(twin)
    devices.register_device(me, "ios", "a")
    removal = devices.removal(me.account_id)
    devices.register_device(me, "ios", "b")
    with pytest.raises(RaceLost):
        Transaction(removal.writes).commit()
    assert _tokens(me) == ["a", "b"]


def test_removal_fails_if_a_device_moved_after_it_read(twin):
    me, other = _account(twin), _account(twin)
    devices.register_device(me, "ios", "a")
    removal = devices.removal(me.account_id)
    devices.register_device(other, "ios", "a")
    with pytest.raises(RaceLost):
        Transaction(removal.writes).commit()
    assert device_store().owner("a") == other.account_id


def test_the_export_reads_the_devices_oldest_first(twin):
    me = _account(twin)
    devices.register_device(me, "android", "x")
    devices.register_device(me, "ios", "y")
    assert [(d.platform, d.token) for d in devices.account_devices(me.account_id)] == [("android", "x"), ("ios", "y")]
