"""The mail queue's AWS side (``oph.platform.mail_queue``): SQS for the e-mails, the tokens
table for the once-only claims, SES for the account's sending rate."""

from __future__ import annotations

import os
import time

from oph.platform import aws, clock
from oph.platform.aws import dynamo, ses, unavailable_on_failure
from oph.platform.mail_queue import QueuedEmail, to_body
from oph.platform.settings import get_settings

CLAIM_DAYS = 14  # the queue's retention: no copy of a message outlives its claim
RATE_MAX_AGE = 3600.0


class SqsMailOutbox:
    def __init__(self) -> None:
        self.queue_url = os.environ.get("MAIL_QUEUE_URL", "")
        self.table = get_settings().tokens_table
        self._rate: tuple[float, float] | None = None  # (read at, rate)

    def enqueue(self, items: list[QueuedEmail]) -> None:
        for start in range(0, len(items), 10):
            entries = [{"Id": str(i), "MessageBody": to_body(item)} for i, item in enumerate(items[start : start + 10])]
            with unavailable_on_failure():
                reply = aws.sqs().send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            if reply.get("Failed"):
                raise RuntimeError(f"{len(reply['Failed'])} e-mail(s) not queued")

    def requeue(self, item: QueuedEmail, delay_seconds: int) -> None:
        again = QueuedEmail(key=item.key, email=item.email, requeues=item.requeues + 1)
        with unavailable_on_failure():
            aws.sqs().send_message(QueueUrl=self.queue_url, MessageBody=to_body(again), DelaySeconds=delay_seconds)

    def claim(self, key: str) -> bool:
        return dynamo.put_if(
            TableName=self.table,
            Item=dynamo.to_item(
                {"pk": f"MAILSENT#{key}", "sk": "MAIL", "expires_at": int(clock.now_ts()) + CLAIM_DAYS * 86400}
            ),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def release(self, key: str) -> None:
        with unavailable_on_failure():
            aws.dynamodb().delete_item(TableName=self.table, Key=dynamo.key(f"MAILSENT#{key}", "MAIL"))

    def max_send_rate(self) -> float:
        if self._rate is None or time.monotonic() - self._rate[0] > RATE_MAX_AGE:
            self._rate = (time.monotonic(), ses.max_send_rate())
        return self._rate[1]
