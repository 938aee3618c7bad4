"""DynamoDB as every store uses it: item conversion, paginated and batched reads and writes
with back-off, and the committer of :class:`oph.platform.transaction.Transaction`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from oph.platform import aws
from oph.platform.aws import (
    cancellation_reasons,
    error_code,
    is_conditional_failure,
    is_retryable,
    unavailable_on_failure,
)
from oph.platform.errors import ServiceUnavailable
from oph.platform.transaction import ErrorSpec, RaceLost, Write, first_failure

BATCH_ATTEMPTS = 8
_CONTENDED = frozenset({"TransactionConflict"})
_THROTTLED = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain Python values -> DynamoDB attribute values (None values are left out)."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values -> plain Python values (integral numbers as int)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {k: _plain(deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def get(table: str, item_key: dict[str, Any]) -> dict[str, Any] | None:
    """One item, strongly consistent (every read that decides something must see the last write)."""
    with unavailable_on_failure():
        item = aws.dynamodb().get_item(TableName=table, Key=item_key, ConsistentRead=True).get("Item")
    return dict(item) if item else None


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, following ``LastEvaluatedKey`` page after page."""
    items: list[dict[str, Any]] = []
    with unavailable_on_failure():
        while True:
            page = aws.dynamodb().query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.02 * 2**attempt))


def batch_get(request: dict[str, Any], attempts: int = 4) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem until every key is answered: ``{table: [items]}``.

    Up to 100 keys per call (larger requests are cut); keys DynamoDB leaves unprocessed under
    throttling are asked again with back-off, and if they still are after ``attempts`` the
    caller gets a 503.
    """
    found: dict[str, list[dict[str, Any]]] = {}

    def collect(reply: dict[str, Any]) -> None:
        for table, items in reply.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)

    for chunk in _split_request(request, 100):
        _until_processed("batch_get_item", chunk, "UnprocessedKeys", attempts, collect)
    return found


def _until_processed(
    operation: str,
    pending: dict[str, Any],
    leftover: str,
    attempts: int,
    collect: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Call a batch operation again on what DynamoDB left unprocessed, with back-off; 503 when
    something is still left after ``attempts``."""
    for attempt in range(attempts):
        with unavailable_on_failure():
            reply = getattr(aws.dynamodb(), operation)(RequestItems=pending)
        if collect is not None:
            collect(reply)
        pending = reply.get(leftover) or {}
        if not pending:
            return
        _backoff(attempt)
    raise ServiceUnavailable(retry_after=1)


def _split_request(request: dict[str, Any], size: int) -> Iterator[dict[str, Any]]:
    entries = [(table, spec, k) for table, spec in request.items() for k in spec["Keys"]]
    for start in range(0, len(entries), size):
        chunk: dict[str, Any] = {}
        for table, spec, item_key in entries[start : start + size]:
            chunk.setdefault(table, {**{k: v for k, v in spec.items() if k != "Keys"}, "Keys": []})["Keys"].append(
                item_key
            )
        yield chunk


def batch_write(table: str, requests: list[dict[str, Any]], attempts: int = BATCH_ATTEMPTS) -> None:
    """BatchWriteItem (25 per call) until every request is processed, with back-off; else 503."""
    for start in range(0, len(requests), 25):
        _until_processed("batch_write_item", {table: requests[start : start + 25]}, "UnprocessedItems", attempts)


# -- transactions ----------------------------------------------------------------------------


def commit(writes: list[Write]) -> None:
    """TransactWriteItems, and a cancellation mapped to the error its failed write declares."""
    items = [dict(w.request or {}) for w in writes]
    try:
        aws.dynamodb().transact_write_items(TransactItems=items)
    except Exception as exc:
        if error_code(exc) != "TransactionCanceledException":
            if is_retryable(exc):
                raise ServiceUnavailable() from exc
            raise
        reasons = cancellation_reasons(exc)
        if _THROTTLED.intersection(reasons):
            raise ServiceUnavailable() from exc
        if _CONTENDED.intersection(reasons):
            raise RaceLost(["concurrent transaction"]) from None
        failed = [i for i, reason in enumerate(reasons) if reason not in ("None", "")]
        raise first_failure(writes, failed) from None


def write(name: str, request: dict[str, Any], fails_with: ErrorSpec = None) -> Write:
    """A real store's transaction item: ``request`` is ``{"Put" | "Update" | "Delete" |
    "ConditionCheck": {...}}``."""
    return Write(name=name, committer=commit, fails_with=fails_with, request=request)


# -- conditional single writes ----------------------------------------------------------------


def update_if(**request: Any) -> dict[str, Any] | None:
    """UpdateItem; the item's returned attributes (``{}`` when none were asked), or None when
    its ``ConditionExpression`` was not met. Outages and throttling are 503s."""
    try:
        with unavailable_on_failure():
            reply = aws.dynamodb().update_item(**request)
    except Exception as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return dict(reply.get("Attributes") or {})


def put_if(**request: Any) -> bool:
    """PutItem; False when its ``ConditionExpression`` was not met (nothing written)."""
    try:
        with unavailable_on_failure():
            aws.dynamodb().put_item(**request)
    except Exception as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True
