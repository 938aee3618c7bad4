"""Fixed-window counters in TokensTable, shared by every throttle that counts attempts.

``RATE#<name>#<key>`` / ``WINDOW`` holds ``count`` and ``window_ends`` (epoch seconds); the
window starts at the first counted event and lasts ``window`` seconds (a lock may push its
end further: :meth:`RateLimiter.lock_until`). Keys that contain personal data (e-mails, IPs,
tenant numbers) are hashed before use (:func:`hashed`).

Two ways to count:
- :meth:`RateLimiter.hit` counts an event whatever the count (budgets checked afterwards:
  resends, reset links);
- :meth:`RateLimiter.charge` counts an event only while fewer than ``limit`` were counted,
  in ONE conditional write: a check and a count that cannot be raced past (step 1 of the
  registration, e-mail changes). A charge that turns out not to be a failure is given back
  with :meth:`RateLimiter.refund`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.provider import Provider
from oph.platform.settings import get_settings

_MAX_RACES = 8


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Charge:
    counted: bool  # False: the limit was already reached (nothing counted)
    count: int  # the count in the live window after this charge (the limit when refused)
    seconds_left: float  # until the live window ends


class RateLimiter:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tokens_table

    def _key(self, name: str, key: str) -> dict[str, Any]:
        return dynamo.key(f"RATE#{name}#{key}", "WINDOW")

    def current(self, name: str, key: str) -> tuple[int, float]:
        """(count, seconds left) of the live window, (0, 0) when there is none."""
        item = dynamo.get(self.table, self._key(name, key))
        if not item:
            return 0, 0.0
        left = int(item["window_ends"]["N"]) - clock.now_ts()
        return (int(item["count"]["N"]), left) if left > 0 else (0, 0.0)

    def _start(self, name: str, key: str, window: int, now: int) -> bool:
        """Open a new window counting one event, unless a live one exists."""
        until = now + window
        return dynamo.put_if(
            TableName=self.table,
            Item={
                **self._key(name, key),
                "count": {"N": "1"},
                "window_ends": {"N": str(until)},
                "expires_at": {"N": str(until)},
            },
            ConditionExpression="attribute_not_exists(pk) OR window_ends <= :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )

    def _add(self, name: str, key: str, now: int, below: int | None) -> dict[str, Any] | None:
        condition = "window_ends > :now" + (" AND #c < :limit" if below is not None else "")
        values: dict[str, Any] = {":one": {"N": "1"}, ":now": {"N": str(now)}}
        if below is not None:
            values[":limit"] = {"N": str(below)}
        return dynamo.update_if(
            TableName=self.table,
            Key=self._key(name, key),
            UpdateExpression="ADD #c :one",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )

    def hit(self, name: str, key: str, window: int) -> int:
        """Count one event; returns the count in the live window (starting one if needed)."""
        for _ in range(_MAX_RACES):
            now = int(clock.now_ts())
            counted = self._add(name, key, now, None)
            if counted is not None:
                return int(counted["count"]["N"])
            if self._start(name, key, window, now):  # no live window: this event opens one
                return 1
        return self.current(name, key)[0]

    def charge(self, name: str, key: str, *, limit: int, window: int) -> Charge:
        """Count one event only while the live window holds fewer than ``limit``."""
        for _ in range(_MAX_RACES):
            now = int(clock.now_ts())
            counted = self._add(name, key, now, limit)
            if counted is not None:
                return Charge(True, int(counted["count"]["N"]), int(counted["window_ends"]["N"]) - now)
            if self._start(name, key, window, now):
                return Charge(True, 1, float(window))
            count, left = self.current(name, key)
            if count >= limit and left > 0:
                return Charge(False, count, left)
        return Charge(False, limit, 1.0)  # heavy contention on one key: refuse, briefly

    def refund(self, name: str, key: str) -> None:
        """Give back a charge that turned out not to count (a correct attempt)."""
        now = int(clock.now_ts())
        dynamo.update_if(
            TableName=self.table,
            Key=self._key(name, key),
            UpdateExpression="ADD #c :minus",
            ConditionExpression="window_ends > :now AND #c > :zero",
            ExpressionAttributeNames={"#c": "count"},
            ExpressionAttributeValues={":minus": {"N": "-1"}, ":now": {"N": str(now)}, ":zero": {"N": "0"}},
        )

    def lock_until(self, name: str, key: str, until: float) -> None:
        """Keep the live window (and so its count) until ``until``: a lock that outlasts it."""
        end = str(int(until))
        dynamo.update_if(
            TableName=self.table,
            Key=self._key(name, key),
            UpdateExpression="SET window_ends = :end, expires_at = :end",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":end": {"N": end}},
        )

    def reset(self, name: str, key: str) -> None:
        with aws.unavailable_on_failure():
            aws.dynamodb().delete_item(TableName=self.table, Key=self._key(name, key))


rate_limiter: Provider[RateLimiter] = Provider(RateLimiter)
