"""boto3 clients built once per container, and AWS failures translated to domain errors.

Clients are created lazily (not at import: cold start, and tests must create their moto
mocks first) and cached; ``reset_clients()`` drops them between tests. The endpoint is the
project's ``OPH_ENDPOINT_URL`` when set (declared, empty, in the template's Globals, so that
``sam local start-api --env-vars local/env.json`` keeps it: SAM CLI drops any variable the
template does not declare), else boto3's standard ``AWS_ENDPOINT_URL``, which is how the
local server points the very same calls at its embedded moto server.
"""

from __future__ import annotations

import os
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
def session() -> Any:
    # One session per container: its loader caches the service models, so a client costs
    # milliseconds instead of the ~80 ms of a fresh session.
    import boto3

    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    return session().client(service, config=_config(), endpoint_url=os.environ.get("OPH_ENDPOINT_URL") or None)


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
