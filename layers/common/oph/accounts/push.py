"""Push notifications (contract section 10): what the use cases that know an event call, and
what the push worker delivers through Amazon SNS mobile push.

The texts, in French, short, with no amount and no personal detail (they show on a locked
screen), under the title "Mon espace locataire":

- ``notice``: "Votre avis d'échéance de mai 2019 est disponible." (the notice's period;
  "Votre nouvel avis d'échéance est disponible." for a notice without a valid one);
- ``payment``: "Votre paiement a été accepté." / "Votre paiement n'a pas abouti.";
- ``mandate``: "Votre prélèvement automatique est en place." (active), "Votre prélèvement
  automatique n'a pas pu être mis en place." (rejected by the bank), "Votre prélèvement
  automatique est arrêté." (revoked).

Each carries ``type`` and the ``id`` of what it is about, for the app to open it.

**Raising one** (:func:`notify_notice`, :func:`notify_payment`, :func:`notify_mandate`) only
enqueues a message on the push queue, for the accounts that want it: active, enabled, with
the preference on (``push_notices`` for notices, ``push_payments`` for payments and mandates)
and at least one device. It never raises and never waits on SNS: a failure is logged and
counted, and the action that caused it goes on.

**Delivering** (:func:`deliver`, the push worker): the preference is read again, then each
device of the account gets one SNS publish to its platform endpoint (created on first use,
kept on the device). A token the platform reports invalid removes the device; a throttled or
failing SNS fails the message, which SQS retries (then its dead-letter queue); a refusal that
retrying cannot fix drops that device's notification (``PushDropped``). A platform without a
configured application is skipped (``PushPlatformNotConfigured``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oph.accounts import devices, push_jobs
from oph.accounts.account_store import account_store
from oph.accounts.adapters.push_gateway import (
    DeviceTokenInvalid,
    EndpointGone,
    PushRefused,
    PushUnavailable,
    push_gateway,
)
from oph.accounts.device_store import device_store
from oph.accounts.model import IOS, Account, Device
from oph.platform.french import period_label
from oph.platform.observability import count, get_logger

TITLE = "Mon espace locataire"
NOTICE, PAYMENT, MANDATE = "notice", "payment", "mandate"
PUSH_NOTICES, PUSH_PAYMENTS = "push_notices", "push_payments"
PAYMENT_SUCCEEDED = "Votre paiement a été accepté."
PAYMENT_REFUSED = "Votre paiement n'a pas abouti."
MANDATE_TEXTS = {
    "active": "Votre prélèvement automatique est en place.",
    "rejected": "Votre prélèvement automatique n'a pas pu être mis en place.",
    "revoked": "Votre prélèvement automatique est arrêté.",
}
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def notice_text(period: str | None) -> str:
    """``2019-05`` -> "Votre avis d'échéance de mai 2019 est disponible."."""
    if period and _PERIOD.match(period):
        return f"Votre avis d'échéance de {period_label(period)} est disponible."
    return "Votre nouvel avis d'échéance est disponible."


@dataclass(frozen=True)
class Notification:
    """One notification for one account's devices, as the push queue carries it."""

    account_id: str
    preference: str
    type: str
    id: str
    body: str
    title: str = TITLE

    def as_message(self) -> dict[str, Any]:
        return {"kind": push_jobs.NOTIFY, **self.__dict__}

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Notification | None:
        try:
            values = {name: str(message[name]) for name in cls.__dataclass_fields__}
        except KeyError:
            return None
        return cls(**values)


# -- raising them (the use cases that know the events) -----------------------------------------


def wants_push(account: Account | None, preference: str) -> bool:
    """An active, enabled account that did not turn ``preference`` off (on by default)."""
    return account is not None and account.in_service and account.wants(preference)


def _queue(accounts: Iterable[Account | None], preference: str, kind: str, about: str, body: str) -> int:
    queued = 0
    for account in accounts:
        if wants_push(account, preference) and account is not None and device_store().has_devices(account.account_id):
            queued += push_jobs.enqueue(Notification(account.account_id, preference, kind, about, body).as_message())
    return queued


def _never_raising(what: str, send: Callable[[], int]) -> int:
    try:
        return send()
    except Exception as exc:
        get_logger().warning("push not raised", extra={"push_type": what, "error": type(exc).__name__})
        count("PushNotQueued")
        return 0


def notify_notice(holder_ids: Iterable[str], document_id: str, period: str | None) -> int:
    """A notice was published for these holders; how many accounts were queued a push."""

    def send() -> int:
        found = {h: account_store().get_by_holder(h) for h in dict.fromkeys(holder_ids)}
        return _queue(found.values(), PUSH_NOTICES, NOTICE, document_id, notice_text(period))

    return _never_raising(NOTICE, send)


def notify_payment(account_id: str | None, payment_id: str, succeeded: bool) -> int:
    """The payment the account made succeeded or was refused."""

    def send() -> int:
        account = account_store().get(account_id) if account_id else None
        return _queue(
            [account], PUSH_PAYMENTS, PAYMENT, payment_id, PAYMENT_SUCCEEDED if succeeded else PAYMENT_REFUSED
        )

    return _never_raising(PAYMENT, send)


def notify_mandate(account_id: str | None, mandate_id: str, state: str) -> int:
    """The mandate the account signed became ``active``, was ``rejected`` or ``revoked``
    (any other state: nothing)."""
    text = MANDATE_TEXTS.get(state)
    if text is None:
        return 0

    def send() -> int:
        account = account_store().get(account_id) if account_id else None
        return _queue([account], PUSH_PAYMENTS, MANDATE, mandate_id, text)

    return _never_raising(MANDATE, send)


# -- the platforms' formats ----------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def apns_payload(notification: Notification) -> str:
    alert = {"title": notification.title, "body": notification.body}
    return _compact({"aps": {"alert": alert}, "type": notification.type, "id": notification.id})


def fcm_payload(notification: Notification) -> str:
    """FCM HTTP v1 through SNS (``fcmV1Message``); ``data`` values are strings, as FCM wants."""
    message = {
        "notification": {"title": notification.title, "body": notification.body},
        "data": {"type": notification.type, "id": notification.id},
    }
    return _compact({"fcmV1Message": {"message": message}})


def platform_message(platform: str, notification: Notification, *, sandbox: bool = False) -> str:
    """The ``Message`` of an SNS publish with ``MessageStructure=json``: one string per
    platform key, and ``default`` (required by SNS; never shown when the key matches)."""
    structure = {"default": notification.body}
    if platform == IOS:
        structure["APNS"] = apns_payload(notification)
        if sandbox:  # the development APNs environment (a dev stack's APNS_SANDBOX application)
            structure["APNS_SANDBOX"] = structure["APNS"]
    else:
        structure["GCM"] = fcm_payload(notification)
    return _compact(structure)


def is_sandbox(application_arn: str) -> bool:
    return ":app/APNS_SANDBOX/" in application_arn


# -- delivering them (the push worker) ----------------------------------------------------------


def deliver(message: Mapping[str, Any]) -> int:
    """One message of the push queue; how many pushes SNS accepted. Raises PushUnavailable
    when SNS throttled or failed (the message is then retried)."""
    if message.get("kind") == push_jobs.FORGET:
        _forget(str(arn) for arn in message.get("endpoints") or [])
        return 0
    notification = Notification.from_message(message) if message.get("kind") == push_jobs.NOTIFY else None
    if notification is None:
        count("PushMessagesMalformed")
        get_logger().warning("push message not understood; dropped")
        return 0
    if not wants_push(account_store().get(notification.account_id), notification.preference):
        count("PushSkipped")
        return 0
    sent, unavailable = 0, None
    for device in device_store().device_set(notification.account_id).devices:
        try:
            sent += send_to_device(device, notification)
        except PushUnavailable as exc:  # the other devices are still tried
            unavailable = exc
    if unavailable is not None:
        count("PushRetried")
        raise unavailable
    return sent


def send_to_device(device: Device, notification: Notification) -> int:
    """Publish to one device: 1 when SNS accepted it, 0 when it was skipped or dropped."""
    gateway = push_gateway()
    application = gateway.application(device.platform)
    if not application:
        count("PushPlatformNotConfigured")
        return 0
    message = platform_message(device.platform, notification, sandbox=is_sandbox(application))
    endpoint = device.endpoint_arn
    try:
        if endpoint is None:
            endpoint = _new_endpoint(device, application)
        try:
            gateway.publish(endpoint, message)
        except EndpointGone:  # deleted meanwhile (a removed device's endpoint): made again
            endpoint = _new_endpoint(device, application)
            gateway.publish(endpoint, message)
    except DeviceTokenInvalid:
        _remove_invalid(device, endpoint)
        return 0
    except DeviceGone:
        count("PushSkipped")
        return 0
    except (PushRefused, EndpointGone) as exc:
        count("PushDropped")
        get_logger().warning("push refused by SNS; dropped", extra={"sns_code": str(exc) or type(exc).__name__})
        return 0
    count("PushSent")
    return 1


class DeviceGone(Exception):
    """The device was removed, or its token moved to another account, during the delivery."""


def _new_endpoint(device: Device, application: str) -> str:
    endpoint = push_gateway().create_endpoint(application, device.token)
    if not device_store().set_endpoint(device, endpoint):
        raise DeviceGone()  # never push an account's news to a phone that is no longer its
    return endpoint


def _remove_invalid(device: Device, endpoint: str | None) -> None:
    count("PushTokensInvalid")
    removed = devices.remove_device(device.account_id, device.token)
    if removed is not None and endpoint:
        _forget([endpoint])


def _forget(endpoints: Iterable[str]) -> None:
    for endpoint in endpoints:
        try:
            push_gateway().delete_endpoint(endpoint)
        except PushRefused as exc:
            count("PushEndpointsNotDeleted")
            get_logger().warning("SNS endpoint not deleted", extra={"sns_code": exc.code})


# -- the platform applications' events ------------------------------------------------------------

_REMOVING_EVENTS = frozenset({"DeliveryFailure", "EndpointUpdated"})


def handle_platform_event(event: Mapping[str, Any]) -> bool:
    """An SNS application event (``EventDeliveryFailure``, ``EventEndpointUpdated``): the
    device whose endpoint it names is removed when the platform gave up on it - a delivery
    failure is permanent by definition; an update only when it left the endpoint disabled
    (an enabled one was refreshed, or re-enabled by us). True when a device was removed."""
    arn, kind = str(event.get("EndpointArn") or ""), str(event.get("EventType") or "")
    if not arn or kind not in _REMOVING_EVENTS:
        return False
    state = push_gateway().endpoint_state(arn)
    if state is None or (kind == "EndpointUpdated" and state.enabled):
        return False
    store = device_store()
    owner = store.owner(state.token)
    device = store.get(owner, state.token) if owner else None
    if device is None or device.endpoint_arn not in (None, arn):
        return False
    count("PushTokensInvalid")
    if devices.remove_device(device.account_id, device.token) is None:
        return False
    _forget([arn])
    return True


def handle_platform_events(records: Iterable[Mapping[str, Any]]) -> int:
    """The SNS records of the platform applications' event topic; how many devices went."""
    removed = 0
    for record in records:
        try:
            event = json.loads(str((record.get("Sns") or {}).get("Message") or "{}"))
        except ValueError:
            get_logger().warning("push platform event is not JSON; ignored")
            continue
        if isinstance(event, dict):
            removed += handle_platform_event(event)
    return removed
