"""What the embedded SNS "pushed": moto keeps every message published to a platform endpoint;
this lists them as the contract's ``GET /_dev/push`` shows them (section 10, oldest first):
``{"platform", "token", "title", "body", "type", "id", "sent_at"}``.

moto keeps each endpoint's messages without a date, and forgets them with the endpoint (a
removed device's endpoint is deleted), so importing this module wraps moto's
``PlatformEndpoint.publish`` to keep each message as it was published, dated and in order (a
message published before that is dated when first listed, after the others).
"""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime
from typing import Any

from devserver import template as tpl

_sequence = itertools.count()
_lock = threading.Lock()
_published: dict[str, tuple[int, dict[str, Any]]] = {}  # message id -> (order, entry)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _note(message_id: str, endpoint: Any, raw: str) -> tuple[int, dict[str, Any]]:
    with _lock:
        if message_id not in _published:
            _published[message_id] = (next(_sequence), _entry(endpoint, raw))
        return _published[message_id]


def install() -> None:
    """Keep every message published from now on, dated (idempotent; done at import)."""
    from moto.sns.models import PlatformEndpoint

    original = PlatformEndpoint.publish
    if getattr(original, "keeps_messages", False):
        return

    def publish(self: Any, message: str) -> str:
        message_id = str(original(self, message))
        _note(message_id, self, message)
        return message_id

    publish.keeps_messages = True  # type: ignore[attr-defined]
    PlatformEndpoint.publish = publish  # type: ignore[method-assign]


def _backend() -> Any:
    from moto.sns.models import sns_backends

    return sns_backends[tpl.ACCOUNT_ID][tpl.REGION]


def clear() -> None:
    for endpoint in list(_backend().platform_endpoints.values()):
        endpoint.messages.clear()
    with _lock:
        _published.clear()


def _entry(endpoint: Any, raw: str) -> dict[str, Any]:
    application_platform = endpoint.application.platform  # APNS, APNS_SANDBOX or GCM
    return {
        "platform": "ios" if application_platform.startswith("APNS") else "android",
        "token": endpoint.token,
        **_payload(application_platform, raw),
        "sent_at": _now(),
    }


def _payload(application_platform: str, raw: str) -> dict[str, str]:
    """Title, body, type and id from what was published (``MessageStructure=json``)."""
    try:
        structure = json.loads(raw)
        text = structure.get(application_platform) or structure.get("APNS") or structure.get("GCM")
        inner = json.loads(text) if isinstance(text, str) else {}
    except (ValueError, AttributeError):
        return {"title": "", "body": raw, "type": "", "id": ""}
    if not isinstance(inner, dict):
        inner = {}
    if "fcmV1Message" in inner:
        message = inner["fcmV1Message"].get("message", {})
        shown, data = message.get("notification", {}), message.get("data", {})
    else:
        shown, data = inner.get("aps", {}).get("alert", {}), inner
    if isinstance(shown, str):  # an APNs alert may be a plain string
        shown = {"body": shown}
    return {
        "title": str(shown.get("title", "")),
        "body": str(shown.get("body", structure.get("default", ""))),
        "type": str(data.get("type", "")),
        "id": str(data.get("id", "")),
    }


def messages() -> list[dict[str, Any]]:
    """Everything pushed since the last :func:`clear`, oldest first (a removed device's
    endpoint is deleted with its messages in moto: they stay listed here)."""
    for endpoint in list(_backend().platform_endpoints.values()):
        for message_id, raw in list(endpoint.messages.items()):
            _note(message_id, endpoint, raw)  # published before install(): dated now
    with _lock:
        listed = sorted(_published.values(), key=lambda pair: pair[0])
    return [dict(entry) for _, entry in listed]


install()
