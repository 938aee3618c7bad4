"""Fixed-window counters in TokensTable, shared by every throttle that counts attempts.

``RATE#<name>#<key>`` / ``WINDOW`` holds ``count`` and ``window_ends`` (epoch seconds); the
window starts at the first counted event and lasts ``window`` seconds. Increments are atomic
(``ADD``), so concurrent requests cannot slip past a limit. Keys that contain personal data
(e-mails, IPs) are hashed before use.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import TooManyRequests
from oph.platform.settings import get_settings


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class RateLimiter:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tokens_table

    def _key(self, name: str, key: str) -> dict[str, Any]:
        return {"pk": {"S": f"RATE#{name}#{key}"}, "sk": {"S": "WINDOW"}}

    def current(self, name: str, key: str) -> tuple[int, float]:
        """(count, seconds left) of the live window, (0, 0) when there is none."""
        with aws.unavailable_on_failure():
            item = (
                aws.dynamodb().get_item(TableName=self.table, Key=self._key(name, key), ConsistentRead=True).get("Item")
            )
        if not item:
            return 0, 0.0
        left = int(item["window_ends"]["N"]) - clock.now_ts()
        return (int(item["count"]["N"]), left) if left > 0 else (0, 0.0)

    def check(self, name: str, key: str, limit: int) -> None:
        """Raise 429 with Retry-After when ``limit`` events were counted in the live window."""
        count, left = self.current(name, key)
        if count >= limit:
            raise TooManyRequests(retry_after=math.ceil(left))

    def hit(self, name: str, key: str, window: int) -> int:
        """Count one event; returns the count in the live window (starting one if needed)."""
        now = int(clock.now_ts())
        table, item_key = self.table, self._key(name, key)
        counted = dynamo.update_if(
            TableName=table,
            Key=item_key,
            UpdateExpression="ADD #c :one",
            ConditionExpression="window_ends > :now",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(now)}},
            ReturnValues="UPDATED_NEW",
        )
        if counted is not None:
            return int(counted["count"]["N"])
        # No live window: start one. If a concurrent request started it first, count in it.
        started = dynamo.put_if(
            TableName=table,
            Item={
                **item_key,
                "count": {"N": "1"},
                "window_ends": {"N": str(now + window)},
                "expires_at": {"N": str(now + window)},
            },
            ConditionExpression="attribute_not_exists(pk) OR window_ends <= :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
        return 1 if started else self.hit(name, key, window)

    def reset(self, name: str, key: str) -> None:
        with aws.unavailable_on_failure():
            aws.dynamodb().delete_item(TableName=self.table, Key=self._key(name, key))
