"""boto3 clients built once per container, and AWS failures translated to domain errors.

Clients are created lazily (not at import: cold start, and tests must create their moto
mocks first) and cached; ``reset_clients()`` drops them between tests. Endpoints come from
the standard ``AWS_ENDPOINT_URL`` variable, which is how the local server points the very
same calls at its embedded moto server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from oph.platform.errors import ServiceUnavailable
from oph.platform.settings import on_reset

# Codes meaning "try again later": answered as 503 with Retry-After, never as 500.
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
        "TransactionInProgressException",
        "LimitExceededException",
        "SendingPausedException",
        "AccountSendingPausedException",
        "MailFromDomainNotVerifiedException",
        "MessageRejected",
        "InternalServiceError",
    }
)


@cache
def _config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"mode": "standard", "max_attempts": 3},
        tcp_keepalive=True,
    )


@cache
def _session() -> Any:
    # One session per container: its loader caches the service models, so a client costs
    # milliseconds instead of the ~80 ms of a fresh session.
    import boto3

    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    return _session().client(service, config=_config())


def dynamodb() -> Any:
    return client("dynamodb")


def s3() -> Any:
    return client("s3")


def sesv2() -> Any:
    return client("sesv2")


def secretsmanager() -> Any:
    return client("secretsmanager")


def sqs() -> Any:
    return client("sqs")


@on_reset
def reset_clients() -> None:
    client.cache_clear()


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def is_conditional_failure(exc: BaseException) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def cancellation_reasons(exc: BaseException) -> list[str]:
    """Codes of a cancelled DynamoDB transaction, one per item ("None" where it was fine)."""
    response = getattr(exc, "response", None) or {}
    return [str(r.get("Code", "None")) for r in response.get("CancellationReasons", [])]


def is_retryable(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        code = error_code(exc)
        if code == "TransactionCanceledException":
            return "TransactionConflict" in cancellation_reasons(exc) or "ThrottlingError" in cancellation_reasons(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in RETRYABLE_CODES or status >= 500
    return isinstance(exc, BotoCoreError)  # timeouts, connection errors, credential fetch errors


@contextmanager
def unavailable_on_failure(retry_after: float = 5) -> Iterator[None]:
    """Turn throttling, outages and timeouts of a dependency into 503 + Retry-After.

    Anything else (conditional failures, our own bugs) propagates unchanged for the caller to
    handle or for the generic 500 to catch.
    """
    try:
        yield
    except Exception as exc:
        if is_retryable(exc):
            raise ServiceUnavailable(retry_after=retry_after) from exc
        raise


def query_all(**kwargs: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, following ``LastEvaluatedKey`` page after page."""
    items: list[dict[str, Any]] = []
    with unavailable_on_failure():
        while True:
            page = dynamodb().query(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def batch_get(request: dict[str, Any], attempts: int = 4) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem until every key is answered: ``{table: [items]}`` (one round trip usually).

    Keys DynamoDB leaves unprocessed under throttling are asked again with a short backoff;
    if they still are after ``attempts``, the caller gets a 503.
    """
    import time

    found: dict[str, list[dict[str, Any]]] = {}
    for attempt in range(attempts):
        with unavailable_on_failure():
            reply = dynamodb().batch_get_item(RequestItems=request)
        for table, items in reply.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = reply.get("UnprocessedKeys") or {}
        if not request:
            return found
        time.sleep(0.02 * 2**attempt)
    raise ServiceUnavailable(retry_after=1)


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
