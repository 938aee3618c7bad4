"""Twins of the push devices' store and adapters: :class:`oph.accounts.device_store.DeviceStore`,
:class:`~oph.accounts.adapters.push_queue.PushQueue` and
:class:`~oph.accounts.adapters.push_gateway.PushGateway` (an SNS of a few dicts).

:func:`memory_push` swaps the three for the ``with`` block (the accounts' other stores are
swapped by :func:`tests.twins.accounts.memory_accounts`, whose twin includes the device store).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from oph.accounts.adapters.push_gateway import DeviceTokenInvalid, EndpointGone, EndpointState, push_gateway
from oph.accounts.adapters.push_queue import push_queue
from oph.accounts.device_store import DeviceSet, device_store
from oph.accounts.model import Device
from oph.platform.transaction import ErrorSpec, Write, memory_write

APNS_APPLICATION = "arn:aws:sns:eu-west-3:123456789012:app/APNS_SANDBOX/oph-local"
FCM_APPLICATION = "arn:aws:sns:eu-west-3:123456789012:app/GCM/oph-local"


class MemoryDeviceStore:
    def __init__(self) -> None:
        self.owners: dict[str, str] = {}  # token -> account id
        self.devices: dict[str, dict[str, Device]] = {}  # account id -> token -> device
        self.versions: dict[str, int] = {}  # account id -> version (absent: 0)

    # -- reads
    def owner(self, token: str) -> str | None:
        return self.owners.get(token)

    def get(self, account_id: str, token: str) -> Device | None:
        return self.devices.get(account_id, {}).get(token)

    def device_set(self, account_id: str) -> DeviceSet:
        found = sorted(self.devices.get(account_id, {}).values(), key=lambda d: (d.sequence, d.registered_at))
        return DeviceSet(self.versions.get(account_id, 0), tuple(found))

    def has_devices(self, account_id: str) -> bool:
        return bool(self.devices.get(account_id))

    # -- transaction items
    def claim_token_item(
        self, token: str, account_id: str, *, previous: str | None, fails_with: ErrorSpec = None
    ) -> Write:
        return memory_write(
            "device.claim_token",
            check=lambda: self.owners.get(token) == previous,
            apply=lambda: self.owners.__setitem__(token, account_id),
            fails_with=fails_with,
        )

    def put_device_item(self, device: Device) -> Write:
        return memory_write(
            "device.put", apply=lambda: self.devices.setdefault(device.account_id, {}).__setitem__(device.token, device)
        )

    def drop_device_item(self, account_id: str, token: str) -> Write:
        return memory_write("device.drop", apply=lambda: self._drop(account_id, token))

    def _drop(self, account_id: str, token: str) -> None:
        mine = self.devices.get(account_id, {})
        mine.pop(token, None)
        if not mine:
            self.devices.pop(account_id, None)

    def bump_version_item(self, account_id: str, read: int, fails_with: ErrorSpec = None) -> Write:
        return memory_write(
            "device.version",
            check=lambda: self.versions.get(account_id, 0) == read,
            apply=lambda: self.versions.__setitem__(account_id, read + 1),
            fails_with=fails_with,
        )

    def forget_version_item(self, account_id: str, read: int, fails_with: ErrorSpec = None) -> Write:
        return memory_write(
            "device.forget_version",
            check=lambda: self.versions.get(account_id, 0) == read,
            apply=lambda: self.versions.pop(account_id, None),
            fails_with=fails_with,
        )

    def remove_items(self, device: Device, fails_with: ErrorSpec = None) -> list[Write]:
        return [
            memory_write("device.remove", apply=lambda: self._drop(device.account_id, device.token)),
            memory_write(
                "device.release_token",
                check=lambda: self.owners.get(device.token) == device.account_id,
                apply=lambda: self.owners.pop(device.token, None),
                fails_with=fails_with,
            ),
        ]

    # -- single writes
    def set_endpoint(self, device: Device, endpoint_arn: str) -> bool:
        stored = self.get(device.account_id, device.token)
        if stored is None or stored.platform != device.platform:
            return False
        self.devices[device.account_id][device.token] = replace(stored, endpoint_arn=endpoint_arn)
        return True


@dataclass
class MemoryPushQueue:
    """Keeps what it is given; ``configured`` False plays an empty PUSH_QUEUE_URL."""

    is_configured: bool = True
    sent: list[dict[str, Any]] = field(default_factory=list)
    failure: Exception | None = None

    def configured(self) -> bool:
        return self.is_configured

    def send(self, message: dict[str, Any]) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(json.loads(json.dumps(message)))  # what SQS carries: JSON


@dataclass
class MemoryEndpoint:
    application: str
    token: str
    enabled: bool = True


@dataclass
class MemoryPushGateway:
    """SNS mobile push as the adapter presents it: one endpoint per (application, token)."""

    applications: dict[str, str] = field(default_factory=lambda: {"ios": APNS_APPLICATION, "android": FCM_APPLICATION})
    endpoints: dict[str, MemoryEndpoint] = field(default_factory=dict)
    published: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, message)
    errors: list[Exception] = field(default_factory=list)  # raised by the next publishes, in order
    created: int = 0

    def application(self, platform: str) -> str:
        return self.applications.get(platform, "")

    def create_endpoint(self, application_arn: str, token: str) -> str:
        for arn, endpoint in self.endpoints.items():
            if endpoint.application == application_arn and endpoint.token == token:
                endpoint.enabled = True
                return arn
        self.created += 1
        arn = application_arn.replace(":app/", ":endpoint/") + f"/{self.created}"
        self.endpoints[arn] = MemoryEndpoint(application_arn, token)
        return arn

    def publish(self, endpoint_arn: str, message: str) -> None:
        if self.errors:
            raise self.errors.pop(0)
        endpoint = self.endpoints.get(endpoint_arn)
        if endpoint is None:
            raise EndpointGone()
        if not endpoint.enabled:
            raise DeviceTokenInvalid()
        self.published.append((endpoint_arn, message))

    def endpoint_state(self, endpoint_arn: str) -> EndpointState | None:
        endpoint = self.endpoints.get(endpoint_arn)
        return EndpointState(endpoint.token, endpoint.enabled) if endpoint else None

    def delete_endpoint(self, endpoint_arn: str) -> None:
        self.endpoints.pop(endpoint_arn, None)

    # -- what a test asks
    def endpoint_of(self, token: str) -> str | None:
        return next((arn for arn, e in self.endpoints.items() if e.token == token), None)

    def sent_to(self, token: str) -> list[dict[str, Any]]:
        """The messages published to the endpoints of ``token``, decoded one level."""
        arns = {arn for arn, e in self.endpoints.items() if e.token == token}
        return [json.loads(message) for arn, message in self.published if arn in arns]


@dataclass
class PushTwin:
    devices: MemoryDeviceStore
    queue: MemoryPushQueue
    gateway: MemoryPushGateway


@contextmanager
def memory_push(devices: MemoryDeviceStore | None = None) -> Iterator[PushTwin]:
    twin = PushTwin(devices or MemoryDeviceStore(), MemoryPushQueue(), MemoryPushGateway())
    with ExitStack() as stack:
        stack.enter_context(device_store.override(twin.devices))  # type: ignore[arg-type]
        stack.enter_context(push_queue.override(twin.queue))  # type: ignore[arg-type]
        stack.enter_context(push_gateway.override(twin.gateway))  # type: ignore[arg-type]
        yield twin
