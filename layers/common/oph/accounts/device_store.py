"""TenantsTable as the push devices lay it out (every key of these items is built here).

- ``DEVICES#<account id>`` / ``DEVICE#<token digest>``: one device of the account
  (:class:`oph.accounts.model.Device`: platform, token, registered_at, sequence, and
  endpoint_arn once the push worker created its SNS endpoint);
- ``DEVICES#<account id>`` / ``VERSION``: ``version``, raised by every registration, so two
  concurrent registrations of one account cannot both add a device: the second one's
  condition fails and it reads again (at most :data:`~oph.accounts.model.MAX_DEVICES`);
- ``DEVICE#<token digest>`` / ``DEVICE``: ``account_id`` - one account per device token.

The token digest (:func:`oph.accounts.model.device_token_digest`) keys the items: a token may
be 4 KiB, a key may not. Reads are strongly consistent; the version is read before the
devices, so a registration that committed between the two reads makes the version stale and
the writes conditioned on it fail (a Query sees each item committed, not a snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oph.accounts.model import Device, device_token_digest
from oph.platform.aws import dynamo
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.platform.transaction import ErrorSpec, Write


@dataclass(frozen=True)
class DeviceSet:
    """An account's devices, least recently registered first, and the version they were read at."""

    version: int
    devices: tuple[Device, ...]

    def find(self, token: str) -> Device | None:
        return next((d for d in self.devices if d.token == token), None)


def _devices_pk(account_id: str) -> str:
    return f"DEVICES#{account_id}"


def device_key(account_id: str, token: str) -> dict[str, Any]:
    return dynamo.key(_devices_pk(account_id), f"DEVICE#{device_token_digest(token)}")


def version_key(account_id: str) -> dict[str, Any]:
    return dynamo.key(_devices_pk(account_id), "VERSION")


def token_key(token: str) -> dict[str, Any]:
    return dynamo.key(f"DEVICE#{device_token_digest(token)}", "DEVICE")


def device_from_item(item: dict[str, Any]) -> Device:
    values = dynamo.from_item(item)
    return Device(**{k: v for k, v in values.items() if k in Device.__dataclass_fields__})


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DeviceStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    # -- reads -----------------------------------------------------------------------------
    def owner(self, token: str) -> str | None:
        """The account the token is registered to, if any."""
        item = dynamo.get(self.table, token_key(token))
        return str(item["account_id"]["S"]) if item and "account_id" in item else None

    def get(self, account_id: str, token: str) -> Device | None:
        item = dynamo.get(self.table, device_key(account_id, token))
        return device_from_item(item) if item else None

    def device_set(self, account_id: str) -> DeviceSet:
        version_item = dynamo.get(self.table, version_key(account_id))  # first: see the module's docstring
        version = int(version_item["version"]["N"]) if version_item and "version" in version_item else 0
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
            ExpressionAttributeValues={":pk": _s(_devices_pk(account_id)), ":d": _s("DEVICE#")},
            ConsistentRead=True,
        )
        devices = sorted((device_from_item(i) for i in items), key=lambda d: (d.sequence, d.registered_at))
        return DeviceSet(version, tuple(devices))

    def has_devices(self, account_id: str) -> bool:
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
            ExpressionAttributeValues={":pk": _s(_devices_pk(account_id)), ":d": _s("DEVICE#")},
            ProjectionExpression="pk",
            ConsistentRead=True,
        )
        return bool(items)

    # -- transaction items -------------------------------------------------------------------
    def _write(self, name: str, kind: str, request: dict[str, Any], fails_with: ErrorSpec) -> Write:
        return dynamo.write(name, {kind: {"TableName": self.table, **request}}, fails_with)

    def claim_token_item(
        self, token: str, account_id: str, *, previous: str | None, fails_with: ErrorSpec = None
    ) -> Write:
        """The token now belongs to ``account_id``: it must be free (``previous`` None) or still
        belong to ``previous``."""
        request: dict[str, Any] = {"Item": {**token_key(token), "account_id": _s(account_id)}}
        if previous is None:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "account_id = :previous"
            request["ExpressionAttributeValues"] = {":previous": _s(previous)}
        return self._write("device.claim_token", "Put", request, fails_with)

    def put_device_item(self, device: Device) -> Write:
        """Write the device as given (the token's claim, in the same transaction, decides)."""
        item = {**device_key(device.account_id, device.token), **dynamo.to_item(dict(device.__dict__))}
        return self._write("device.put", "Put", {"Item": item}, None)

    def drop_device_item(self, account_id: str, token: str) -> Write:
        """Delete the account's item of a token that moves to another account."""
        return self._write("device.drop", "Delete", {"Key": device_key(account_id, token)}, None)

    def bump_version_item(self, account_id: str, read: int, fails_with: ErrorSpec = None) -> Write:
        """The account's version goes from ``read`` to ``read + 1`` (fails if someone else moved it)."""
        condition = "attribute_not_exists(pk)" if read == 0 else "version = :read"
        values: dict[str, Any] = {":next": {"N": str(read + 1)}}
        if read:
            values[":read"] = {"N": str(read)}
        request = {
            "Key": version_key(account_id),
            "UpdateExpression": "SET version = :next",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        return self._write("device.version", "Update", request, fails_with)

    def forget_version_item(self, account_id: str, read: int, fails_with: ErrorSpec = None) -> Write:
        """Delete the account's version, if it is still ``read`` (no device was added since)."""
        request: dict[str, Any] = {"Key": version_key(account_id)}
        if read == 0:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "version = :read"
            request["ExpressionAttributeValues"] = {":read": {"N": str(read)}}
        return self._write("device.forget_version", "Delete", request, fails_with)

    def remove_items(self, device: Device, fails_with: ErrorSpec = None) -> list[Write]:
        """The device and its token's claim, if the token still belongs to the account."""
        release = {
            "Key": token_key(device.token),
            "ConditionExpression": "account_id = :me",
            "ExpressionAttributeValues": {":me": _s(device.account_id)},
        }
        return [
            self._write("device.remove", "Delete", {"Key": device_key(device.account_id, device.token)}, None),
            self._write("device.release_token", "Delete", release, fails_with),
        ]

    # -- single writes ---------------------------------------------------------------------------
    def set_endpoint(self, device: Device, endpoint_arn: str) -> bool:
        """Keep the device's SNS endpoint; False when the device is gone (or its token moved)."""
        updated = dynamo.update_if(
            TableName=self.table,
            Key=device_key(device.account_id, device.token),
            UpdateExpression="SET endpoint_arn = :arn",
            ConditionExpression="attribute_exists(pk) AND platform = :platform",
            ExpressionAttributeValues={":arn": _s(endpoint_arn), ":platform": _s(device.platform)},
        )
        return updated is not None


device_store: Provider[DeviceStore] = Provider(DeviceStore)
