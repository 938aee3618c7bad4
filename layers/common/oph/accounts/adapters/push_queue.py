"""The push queue (SQS, ``PUSH_QUEUE_URL``): what the use cases that know an event hand to the
push worker (:mod:`oph.accounts.push`). An empty URL means push is off: nothing is sent."""

from __future__ import annotations

import json
import os
from typing import Any

from oph.platform import aws
from oph.platform.provider import Provider


class PushQueue:
    def configured(self) -> bool:
        return bool(os.environ.get("PUSH_QUEUE_URL", ""))

    def send(self, message: dict[str, Any]) -> None:
        """One message for the push worker; AWS failures propagate (the caller decides)."""
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        aws.sqs().send_message(QueueUrl=os.environ["PUSH_QUEUE_URL"], MessageBody=body)


push_queue: Provider[PushQueue] = Provider(PushQueue)
