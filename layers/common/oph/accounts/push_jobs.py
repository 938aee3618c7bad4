"""What goes on the push queue, handed over without ever failing the action that caused it.

Two kinds of message for the push worker (:func:`oph.accounts.push.deliver`): ``notify``
(one notification for one account's devices, :mod:`oph.accounts.push`) and ``forget`` (the
SNS endpoints of removed devices, deleted by the worker: the functions that remove devices
never talk to SNS themselves). A failure to enqueue is logged without personal data and
counted (``PushNotQueued``), never raised; with no ``PUSH_QUEUE_URL`` nothing is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oph.accounts.adapters.push_queue import push_queue
from oph.platform.observability import count, get_logger

NOTIFY = "notify"
FORGET = "forget"


def enqueue(message: dict[str, Any]) -> bool:
    """Hand one message to the push worker; False when push is off or the queue failed."""
    try:
        queue = push_queue()
        if not queue.configured():
            return False
        queue.send(message)
    except Exception as exc:
        get_logger().warning(
            "push message not queued", extra={"push_kind": message.get("kind"), "error": type(exc).__name__}
        )
        count("PushNotQueued")
        return False
    count("PushQueued")
    return True


def forget_endpoints(endpoints: Iterable[str | None]) -> None:
    """Ask the worker to delete these SNS endpoints (of devices removed from accounts)."""
    arns = sorted({arn for arn in endpoints if arn})
    if arns:
        enqueue({"kind": FORGET, "endpoints": arns})
