"""The mail queue under a bulk publication (issue 18 point 8), on a virtual clock.

``simulate`` runs the real sender (``oph.platform.mail_queue.send_queued`` with its real
``Pacer``) against an SQS queue and an SES account modelled as AWS documents them: messages
become visible again after the visibility timeout when reported failed, a message received
``max_receive`` times goes to the dead-letter queue, delayed messages wait their delay, and SES
answers ``Throttling`` to any send above its rate in a one-second window. Nothing sleeps: the
clock jumps. ``project`` adds the measured CPU cost of one queued e-mail (build, JSON, MIME)
to say how long 150,000 notices' e-mails take and whether the rate or the senders bound it.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import json
import os
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MonEspaceLocataire")

from oph.platform.mail import Email, MailThrottled, set_mailer  # noqa: E402
from oph.platform.mail_queue import (  # noqa: E402
    Pacer,
    QueuedEmail,
    from_sqs_record,
    mail_outbox,
    send_queued,
    sender_rate,
    to_body,
)


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@dataclass
class ThrottlingSes:
    """SES: at most ``rate`` sends in any one-second window, else Throttling."""

    clock: VirtualClock
    rate: float
    send_seconds: float = 0.05  # one SendEmail call's round trip
    window: deque[float] = field(default_factory=deque)
    sent: Counter[str] = field(default_factory=Counter)
    throttled: int = 0

    def send(self, email: Email) -> None:
        self.clock.sleep(self.send_seconds)
        while self.window and self.window[0] <= self.clock.now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.rate:
            self.throttled += 1
            raise MailThrottled()
        self.window.append(self.clock.now)
        self.sent[email.subject] += 1


@dataclass
class SimulatedQueue:
    """SQS as the sender sees it, plus the claims table (the outbox protocol)."""

    clock: VirtualClock
    visibility: float = 720.0
    max_receive: int = 5
    ids: itertools.count[int] = field(default_factory=itertools.count)
    waiting: list[tuple[float, int, str, int]] = field(default_factory=list)  # (visible at, id, body, receives)
    dead: int = 0
    claims: set[str] = field(default_factory=set)
    max_rate: float = 14.0

    def push(self, body: str, delay: float = 0.0, receives: int = 0) -> None:
        heapq.heappush(self.waiting, (self.clock.now + delay, next(self.ids), body, receives))

    def receive(self, count: int = 10) -> list[tuple[int, str, int]]:
        got = []
        while self.waiting and len(got) < count and self.waiting[0][0] <= self.clock.now:
            _, ident, body, receives = heapq.heappop(self.waiting)
            if receives >= self.max_receive:
                self.dead += 1
                continue
            got.append((ident, body, receives + 1))
        return got

    # -- MailOutbox
    def enqueue(self, items: list[QueuedEmail]) -> None:
        for item in items:
            self.push(to_body(item))

    def requeue(self, item: QueuedEmail, delay_seconds: int) -> None:
        again = QueuedEmail(key=item.key, email=item.email, requeues=item.requeues + 1)
        self.push(to_body(again), delay_seconds)

    def claim(self, key: str) -> bool:
        if key in self.claims:
            return False
        self.claims.add(key)
        return True

    def release(self, key: str) -> None:
        self.claims.discard(key)

    def max_send_rate(self) -> float:
        return self.max_rate


def _email(n: int) -> Email:
    return Email(to=[f"locataire{n}@exemple.com"], subject=f"avis {n}", text="t", html="<p>t</p>")


def simulate(
    count: int, *, quota_rate: float = 14.0, ses_rate: float | None = None, redeliver_every: int = 0
) -> dict[str, Any]:
    """Publish ``count`` e-mails and run one sender until the queue is empty.

    ``ses_rate`` below ``quota_rate`` makes SES throttle (a quota that shrank, another sender on
    the account); ``redeliver_every`` = n delivers every n-th message twice (SQS's at least once).
    """
    clock = VirtualClock()
    queue = SimulatedQueue(clock, max_rate=quota_rate)
    ses = ThrottlingSes(clock, ses_rate if ses_rate is not None else quota_rate)
    for n in range(count):
        queue.push(to_body(QueuedEmail(key=f"notice/{n}", email=_email(n))))
    pacer = Pacer(sender_rate(quota_rate, 1), clock=clock, sleep=clock.sleep)
    invocations = 0
    set_mailer(ses)
    try:
        with mail_outbox.override(queue):
            while queue.waiting:
                batch = queue.receive()
                if not batch:
                    clock.now = queue.waiting[0][0]
                    continue
                invocations += 1
                _invoke(queue, clock, pacer, batch, redeliver_every)
    finally:
        set_mailer(None)
    return {
        "emails": count,
        "sent": sum(ses.sent.values()),
        "sent_twice": sum(1 for n in ses.sent.values() if n > 1),
        "dead_lettered": queue.dead,
        "throttled_answers": ses.throttled,
        "invocations": invocations,
        "hours": clock.now / 3600,
        "per_second": count / clock.now if clock.now else 0.0,
    }


def _invoke(
    queue: SimulatedQueue, clock: VirtualClock, pacer: Pacer, batch: list[tuple[int, str, int]], redeliver_every: int
) -> None:
    deadline = clock.now + 120.0  # the sender's timeout
    records = [{"messageId": str(ident), "body": body} for ident, body, _ in batch]
    report = send_queued([from_sqs_record(r) for r in records], lambda: int((deadline - clock.now) * 1000), pacer)
    failed = set(report.failed)
    for ident, body, receives in batch:
        if str(ident) in failed:
            heapq.heappush(queue.waiting, (clock.now + queue.visibility, ident, body, receives))
        elif redeliver_every and ident % redeliver_every == 0 and receives == 1:
            heapq.heappush(queue.waiting, (clock.now, ident, body, receives))  # delivered again


def measured_cost_ms(samples: int = 300) -> float:
    """CPU of one queued notice e-mail on the sender: read the message, build the MIME."""
    from oph.platform.mail import compose, to_mime

    email = compose("Votre avis d'échéance est disponible", ["Bonjour Jean DUPOND,", "Votre avis…"], to="a@b.fr")
    body = to_body(QueuedEmail(key="notice/1", email=email))
    start = time.perf_counter()
    for n in range(samples):
        item = from_sqs_record({"messageId": str(n), "body": body})
        to_mime(item.email, "Mon espace locataire <ne-pas-repondre@oph-aubervilliers.fr>")
    return (time.perf_counter() - start) / samples * 1000


def project(
    count: int = 150_000, quota_rate: float = 14.0, senders: int = 2, ses_call_ms: float = 50.0
) -> dict[str, Any]:
    cost = measured_cost_ms()
    per_sender_cpu_bound = 1000.0 / (cost + ses_call_ms)
    paced = sender_rate(quota_rate, senders)
    effective = min(paced, per_sender_cpu_bound) * senders
    return {
        "emails": count,
        "cost_ms_per_email": round(cost, 3),
        "ses_call_ms_assumed": ses_call_ms,
        "senders": senders,
        "rate_used_per_second": round(effective, 2),
        "bound_by": "SES rate share" if paced <= per_sender_cpu_bound else "sender CPU",
        "hours": round(count / effective / 3600, 2),
    }


def run(count: int = 150_000) -> dict[str, Any]:
    """The projection and both simulations (metrics' EMF lines silenced)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return {
            "projection": project(count),
            "simulated": simulate(count),
            "simulated_throttling": simulate(count // 10, ses_rate=5.0, redeliver_every=50),
        }


def main() -> None:
    print(json.dumps(run(15_000 if "--quick" in sys.argv else 150_000), indent=2))


if __name__ == "__main__":
    main()
