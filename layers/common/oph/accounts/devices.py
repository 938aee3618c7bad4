"""The phones that receive an account's push notifications (contract section 10).

- ``PUT /v1/account/devices`` registers a (platform, token) for the caller's account. The same
  token again changes nothing. A token registered by another account moves to this one (its
  item there goes, in the same transaction: a phone belongs to whoever logged in last). At
  most :data:`~oph.accounts.model.MAX_DEVICES` per account: the least recently registered
  go, in the same transaction.
- Every registration raises the account's device version, on condition that it is still the
  version it read (:mod:`oph.accounts.device_store`): of two registrations of one account
  running together, one commits and the other reads again and decides again, evictions
  included, so a flood of registrations never grows past five. It also checks the account's
  session generation: a registration racing with a password change, a disabling or a deletion
  fails (401) instead of adding a device to an account that is being closed.
- ``DELETE /v1/account/devices`` removes the caller's device of that token; an unknown token,
  or another account's, changes nothing (204 all the same).
- Deleting and disabling an account remove all its devices in their own transaction
  (:func:`removal`); logging out does not.
- The SNS endpoints of removed devices are deleted by the push worker
  (:func:`oph.accounts.push_jobs.forget_endpoints`), except a moved token's: its new owner's
  device uses the same endpoint (one endpoint per token).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from oph.accounts import push_jobs
from oph.accounts.account_store import account_store
from oph.accounts.device_store import device_store
from oph.accounts.model import MAX_DEVICES, Account, Device
from oph.platform import clock
from oph.platform.errors import ServiceUnavailable, Unauthorized
from oph.platform.observability import count
from oph.platform.transaction import RaceLost, Transaction, Write

ATTEMPTS = 8  # a registration that keeps losing races (a flood of them) gives up with a 503


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.01 * 2**attempt)))  # jitter, not a secret


# -- registration ------------------------------------------------------------------------------


def register_device(account: Account, platform: str, token: str) -> None:
    """Register the caller's phone (validated by the route: platform ios|android, token 1 byte
    to 4 KiB). 401 if the account was closed meanwhile, 503 if it kept losing races."""
    for attempt in range(ATTEMPTS):
        try:
            forgotten = _register_once(account, platform, token)
        except RaceLost:
            _pause(attempt)
            continue
        push_jobs.forget_endpoints(forgotten)
        return
    count("DeviceRegistrationsContended")
    raise ServiceUnavailable()


def _register_once(account: Account, platform: str, token: str) -> list[str | None]:
    """One attempt; the endpoints of the devices it removed (RaceLost: read again)."""
    store = device_store()
    owner = store.owner(token)
    current = store.device_set(account.account_id)
    mine = current.find(token)
    if owner == account.account_id and mine is not None and mine.platform == platform:
        return []  # the same token again changes nothing
    others = [d for d in current.devices if d.token != token]
    evicted = others[: max(0, len(others) + 1 - MAX_DEVICES)]  # least recently registered first
    same_endpoint = mine is not None and mine.platform == platform
    device = Device(
        account_id=account.account_id,
        platform=platform,
        token=token,
        registered_at=clock.iso_instant(),
        sequence=current.version + 1,
        endpoint_arn=mine.endpoint_arn if mine is not None and same_endpoint else None,
    )
    writes: list[Write] = [
        account_store().generation_check_item(account, fails_with=Unauthorized),  # first: it decides the error
        store.claim_token_item(token, account.account_id, previous=owner),
        store.put_device_item(device),
        store.bump_version_item(account.account_id, current.version),
    ]
    if owner is not None and owner != account.account_id:
        writes.append(store.drop_device_item(owner, token))  # moves: same token, same endpoint
    for old in evicted:
        writes += store.remove_items(old)
    Transaction(writes).commit()
    count("DevicesRegistered")
    if evicted:
        count("DevicesEvicted", len(evicted))
    replaced = [mine.endpoint_arn] if mine is not None and not same_endpoint else []
    return [d.endpoint_arn for d in evicted] + replaced


# -- removal -------------------------------------------------------------------------------------


def unregister_device(account: Account, token: str) -> None:
    """``DELETE /v1/account/devices``: nothing happens for a token the caller does not have."""
    removed = remove_device(account.account_id, token)
    if removed is not None:
        push_jobs.forget_endpoints([removed.endpoint_arn])


def remove_device(account_id: str, token: str) -> Device | None:
    """Remove the account's device of ``token`` (its SNS endpoint is the caller's business);
    None when the account has none (unknown token, or it belongs to another account)."""
    store = device_store()
    for attempt in range(ATTEMPTS):
        if store.owner(token) != account_id:
            return None
        device = store.get(account_id, token) or Device(account_id, "", token, "")
        try:
            Transaction(store.remove_items(device)).commit()
        except RaceLost:  # moved, removed or re-registered meanwhile: look again
            _pause(attempt)
            continue
        count("DevicesRemoved")
        return device
    raise ServiceUnavailable()


@dataclass(frozen=True)
class DeviceRemoval:
    """Writes that remove every device of an account, and the endpoints to forget once done."""

    writes: list[Write] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    devices: int = 0


def removal(account_id: str) -> DeviceRemoval:
    """For the transaction that deletes or disables the account: every device and the device
    version, on condition that no device was added or moved meanwhile (else that transaction
    fails with RaceLost and nothing is written)."""
    store = device_store()
    current = store.device_set(account_id)
    writes = [write for device in current.devices for write in store.remove_items(device)]
    writes.append(store.forget_version_item(account_id, current.version))
    endpoints = [d.endpoint_arn for d in current.devices if d.endpoint_arn]
    return DeviceRemoval(writes, endpoints, len(current.devices))


def removed(done: DeviceRemoval) -> None:
    """After that transaction committed: the removed devices' SNS endpoints go too."""
    if done.devices:
        count("DevicesRemoved", done.devices)
    push_jobs.forget_endpoints(done.endpoints)


def account_devices(account_id: str) -> list[Device]:
    """The account's devices, least recently registered first (the GDPR export lists them)."""
    return list(device_store().device_set(account_id).devices)
