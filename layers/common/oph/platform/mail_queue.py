"""Bulk e-mails through a queue, sent at the pace SES allows (issue 18 point 8).

A bulk publication (150,000 notices) would otherwise have its 160 concurrent notice workers
call SES at once, far above an account's sending rate (14 e-mails/s by default once out of
the sandbox, 1/s in it): SES answers ``Throttling`` and e-mails are lost or retried blindly.
So the notice worker only *enqueues* (:func:`enqueue`), and the mail sender
(``functions/notices/mail_sender.py``) sends them:

- at ``QUEUE_SHARE`` of the account's ``MaxSendRate`` (read from SES, cached an hour), split
  between the sender's ``MAIL_SENDER_CONCURRENCY`` concurrent containers (the queue source's
  ``MaximumConcurrency``, equal by test): the rest of the rate stays free for the e-mails a
  tenant is waiting for (verification, reset), which are still sent directly;
- backing off (exponential, capped) when SES throttles anyway, and, when it keeps throttling
  or the invocation runs out of time, putting the e-mail back on the queue as a *new*
  message with a delay — so throttling never consumes the message's receive count and never
  lands an e-mail in the dead-letter queue; only an e-mail SES refuses for good (or a bug)
  is retried by SQS and then dead-lettered;
- once: each message carries a key ("notice/<document>/<holder>"); the sender claims the key
  (a conditional write that expires) before sending and releases it when the sending fails,
  so a message SQS delivers twice is sent once.

Transactional e-mails stay synchronous on purpose: the tenant waits for them, they are one
per request, and the queue's share leaves them room.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from oph.platform.mail import Email, MailThrottled, email_from_dict, email_to_dict, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.provider import Provider

QUEUE_SHARE = 0.8  # of MaxSendRate; the rest is for the e-mails a tenant is waiting for
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds limit
ATTEMPTS = 4  # sends of one e-mail in one invocation before it goes back to the queue
SAFETY_MS = 5_000  # time kept to put the unsent e-mails back before the invocation ends


@dataclass(frozen=True)
class QueuedEmail:
    key: str  # what makes it unique: sent once per key
    email: Email
    message_id: str = ""  # the SQS message it came in (to report a failure)
    requeues: int = 0  # times throttling sent it back (for the delay and the metrics)


def to_body(item: QueuedEmail) -> str:
    """The SQS message body of a queued e-mail."""
    return json.dumps({"key": item.key, "requeues": item.requeues, "email": email_to_dict(item.email)})


def from_sqs_record(record: Mapping[str, Any]) -> QueuedEmail:
    values = json.loads(record["body"])
    return QueuedEmail(
        key=str(values["key"]),
        email=email_from_dict(values["email"]),
        message_id=str(record["messageId"]),
        requeues=int(values.get("requeues", 0)),
    )


class MailOutbox(Protocol):
    """The queue, the once-only claims and the account's rate (``oph.platform.aws.mail_outbox``)."""

    def enqueue(self, items: list[QueuedEmail]) -> None: ...
    def requeue(self, item: QueuedEmail, delay_seconds: int) -> None: ...
    def claim(self, key: str) -> bool: ...
    def release(self, key: str) -> None: ...
    def max_send_rate(self) -> float: ...


mail_outbox: Provider[MailOutbox] = Provider.lazy("oph.platform.aws.mail_outbox", "SqsMailOutbox")


def queue_configured() -> bool:
    return bool(os.environ.get("MAIL_QUEUE_URL"))


def enqueue(key: str, email: Email) -> None:
    """Queue one bulk e-mail (sent by the mail sender at the allowed pace)."""
    mail_outbox().enqueue([QueuedEmail(key=key, email=email)])
    count("EmailsQueued")


@dataclass
class Pacer:
    """At most ``rate`` sends per second from this container, across invocations."""

    rate: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    next_at: float = 0.0

    def wait(self) -> None:
        now = self.clock()
        if self.next_at > now:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + 1.0 / self.rate

    def hold(self, seconds: float) -> None:
        """SES said slow down: nothing is sent from here for ``seconds``."""
        self.next_at = max(self.next_at, self.clock() + seconds)


def sender_rate(max_send_rate: float, consumers: int) -> float:
    """This container's share: ``QUEUE_SHARE`` of the account's rate, split between the
    concurrent senders (at least one e-mail every 10 s, whatever the quota says)."""
    return max(0.1, max_send_rate * QUEUE_SHARE / max(1, consumers))


def backoff(attempt: int) -> float:
    return float(min(60, 2**attempt))


def requeue_delay(requeues: int) -> int:
    return int(min(MAX_DELAY_SECONDS, 30 * 2**requeues))


@dataclass
class SendReport:
    sent: int = 0
    duplicates: int = 0
    requeued: int = 0
    failed: list[str] = field(default_factory=list)  # message ids SQS must deliver again


_pacer: Pacer | None = None


def container_pacer() -> Pacer:
    """One pacer per container, so the rate also holds from one invocation to the next; its
    rate follows the account's (the outbox caches SES's answer an hour: a quota raised by
    AWS is taken up without waiting for new containers)."""
    global _pacer
    consumers = int(os.environ.get("MAIL_SENDER_CONCURRENCY") or "1")
    configured = os.environ.get("MAIL_SEND_RATE") or ""
    rate = sender_rate(float(configured) if configured else mail_outbox().max_send_rate(), consumers)
    if _pacer is None:
        _pacer = Pacer(rate)
    _pacer.rate = rate
    return _pacer


def send_queued(items: list[QueuedEmail], remaining_ms: Callable[[], int], pacer: Pacer | None = None) -> SendReport:
    """Send each e-mail once, at the pacer's rate; see the module's docstring."""
    pacer = pacer or container_pacer()
    outbox, report = mail_outbox(), SendReport()
    for item in items:
        if remaining_ms() < SAFETY_MS:
            _put_back(outbox, item, 0, report)
            continue
        if not outbox.claim(item.key):
            report.duplicates += 1
            continue
        try:
            sent = _send_paced(item.email, pacer, remaining_ms)
        except Exception:
            outbox.release(item.key)
            get_logger().exception("queued e-mail not sent", extra={"message_id": item.message_id})
            report.failed.append(item.message_id)
            continue
        if sent:
            report.sent += 1
        else:
            outbox.release(item.key)
            _put_back(outbox, item, requeue_delay(item.requeues), report)
    count("QueuedEmailsSent", report.sent)
    return report


def _send_paced(email: Email, pacer: Pacer, remaining_ms: Callable[[], int]) -> bool:
    """True once sent; False when SES kept throttling (or time ran out between attempts)."""
    mailer = get_mailer()
    for attempt in range(ATTEMPTS):
        pacer.wait()
        try:
            mailer.send(email)
            return True
        except MailThrottled:
            count("EmailsThrottled")
            pacer.hold(backoff(attempt))
            if remaining_ms() < SAFETY_MS + backoff(attempt) * 1000:
                return False
    return False


def _put_back(outbox: MailOutbox, item: QueuedEmail, delay: int, report: SendReport) -> None:
    try:
        outbox.requeue(item, delay)
    except Exception:
        get_logger().exception("queued e-mail not put back", extra={"message_id": item.message_id})
        report.failed.append(item.message_id)  # SQS delivers it again after its visibility timeout
        return
    report.requeued += 1
    count("EmailsRequeued")
