"""DeviceStore and its twin obey the same contract."""

from __future__ import annotations

import pytest

from oph.accounts.device_store import DeviceStore
from oph.accounts.model import Device
from oph.platform.errors import Unauthorized
from oph.platform.transaction import RaceLost, Transaction
from tests.stores.conftest import twin_or_real
from tests.twins.devices import MemoryDeviceStore

store = twin_or_real(DeviceStore, MemoryDeviceStore)

AT = "2024-05-01T10:00:00Z"
LONG_TOKEN = "f" * 4096  # a key may not be that long: the store keys the token's digest


def _device(account_id: str = "a1", token: str = "tok-1", sequence: int = 1, platform: str = "ios") -> Device:
    return Device(account_id, platform, token, AT, sequence=sequence)


def _register(store, device: Device, *, previous: str | None = None, version: int | None = None) -> None:
    read = store.device_set(device.account_id).version if version is None else version
    Transaction(
        store.claim_token_item(device.token, device.account_id, previous=previous),
        store.put_device_item(device),
        store.bump_version_item(device.account_id, read),
    ).commit()


def test_a_registered_device_is_read_back(store):
    assert store.device_set("a1").version == 0 and store.device_set("a1").devices == ()
    assert store.has_devices("a1") is False
    _register(store, _device(token=LONG_TOKEN))
    assert store.owner(LONG_TOKEN) == "a1"
    assert store.get("a1", LONG_TOKEN) == _device(token=LONG_TOKEN)
    current = store.device_set("a1")
    assert current.version == 1 and current.devices == (_device(token=LONG_TOKEN),)
    assert current.find(LONG_TOKEN) == _device(token=LONG_TOKEN) and current.find("other") is None
    assert store.has_devices("a1") is True and store.has_devices("a2") is False
    assert store.owner("unknown") is None and store.get("a2", LONG_TOKEN) is None


def test_devices_come_least_recently_registered_first(store):
    for sequence, token in [(3, "c"), (1, "a"), (2, "b")]:
        _register(store, _device(token=token, sequence=sequence))
    assert [d.token for d in store.device_set("a1").devices] == ["a", "b", "c"]
    assert store.device_set("a1").version == 3


def test_a_token_is_claimed_only_free_or_from_its_owner(store):
    _register(store, _device())
    with pytest.raises(RaceLost):
        Transaction(store.claim_token_item("tok-1", "a2", previous=None)).commit()
    with pytest.raises(Unauthorized):
        Transaction(store.claim_token_item("tok-1", "a2", previous="a3", fails_with=Unauthorized)).commit()
    Transaction(store.claim_token_item("tok-1", "a2", previous="a1"), store.drop_device_item("a1", "tok-1")).commit()
    assert store.owner("tok-1") == "a2" and store.get("a1", "tok-1") is None


def test_the_version_moves_only_from_what_was_read(store):
    _register(store, _device(token="a"))
    with pytest.raises(RaceLost):  # read 0, but a registration moved it to 1
        _register(store, _device(token="b", sequence=2), version=0)
    assert store.get("a1", "b") is None and store.owner("b") is None  # nothing of it written
    with pytest.raises(RaceLost):
        Transaction(store.forget_version_item("a1", 0)).commit()
    Transaction(store.forget_version_item("a1", 1)).commit()
    assert store.device_set("a1").version == 0
    Transaction(store.forget_version_item("a2", 0)).commit()  # nothing to forget: fine


def test_removing_a_device_releases_its_token(store):
    _register(store, _device())
    device = store.get("a1", "tok-1")
    Transaction(store.remove_items(device)).commit()
    assert store.owner("tok-1") is None and store.get("a1", "tok-1") is None
    assert store.device_set("a1").devices == ()


def test_removal_fails_when_the_token_moved_meanwhile(store):
    _register(store, _device())
    stale = store.get("a1", "tok-1")
    Transaction(store.claim_token_item("tok-1", "a2", previous="a1"), store.drop_device_item("a1", "tok-1")).commit()
    with pytest.raises(Unauthorized):
        Transaction(store.remove_items(stale, fails_with=Unauthorized)).commit()
    assert store.owner("tok-1") == "a2"  # the new owner keeps it


def test_the_endpoint_is_kept_on_the_device(store):
    _register(store, _device())
    arn = "arn:aws:sns:eu-west-3:123456789012:endpoint/APNS/oph/1"
    assert store.set_endpoint(_device(), arn) is True
    assert store.get("a1", "tok-1").endpoint_arn == arn
    assert store.set_endpoint(_device(platform="android"), arn) is False  # re-registered for another platform
    assert store.set_endpoint(_device(token="gone"), arn) is False
    assert store.get("a1", "gone") is None


def test_putting_a_device_again_replaces_it(store):
    _register(store, _device())
    Transaction(store.put_device_item(_device(platform="android", sequence=4))).commit()
    assert store.get("a1", "tok-1") == _device(platform="android", sequence=4)
