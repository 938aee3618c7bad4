"""Login throttling (CNIL deliberation 2022-100, "restriction d'accès").

After the n-th consecutive failure for an e-mail (n >= 5), the next attempt must wait
2^(n-5) seconds (1 s, 2 s, 4 s ... capped at 15 minutes); earlier attempts get 429 with
``Retry-After`` and neither count nor extend the delay. A successful login resets it.

State lives in TokensTable, ``LOGINFAIL#<hash of the normalised e-mail>`` / ``LOGIN``:
``failures``, ``locked_until`` (epoch seconds, fractional), ``expires_at`` (TTL: the count is
forgotten 24 hours after the last failure). The key is the same whether or not an account
exists, so the lock reveals nothing.

Concurrency: a login *charges* its attempt before checking the password
(:func:`begin_attempt`, a compare-and-set on ``failures``), and a correct password resets
the counter. So 100 simultaneous guesses cannot all pass an unlocked counter: the one that
reaches the 5th failure sets the lock in the same write, the others re-read and get 429.
"""

from __future__ import annotations

from typing import Any

from oph.accounts.model import normalize_email
from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import TooManyRequests
from oph.platform.observability import count
from oph.platform.rate_limit_store import hashed
from oph.platform.settings import get_settings

FREE_FAILURES = 5
MAX_DELAY_SECONDS = 15 * 60
FORGET_AFTER_SECONDS = 24 * 3600
_MAX_RETRIES = 20


def delay_after(failures: int) -> float:
    """Seconds the next attempt waits after ``failures`` consecutive failures."""
    if failures < FREE_FAILURES:
        return 0.0
    exponent = failures - FREE_FAILURES
    return float(MAX_DELAY_SECONDS) if exponent >= 10 else float(min(2**exponent, MAX_DELAY_SECONDS))


def _key(email: str) -> dict[str, Any]:
    return {"pk": {"S": f"LOGINFAIL#{hashed(normalize_email(email))}"}, "sk": {"S": "LOGIN"}}


def _read(key: dict[str, Any]) -> tuple[int | None, int, float]:
    """(stored failures for the compare-and-set, live failures, locked_until)."""
    with aws.unavailable_on_failure():
        item = aws.dynamodb().get_item(TableName=get_settings().tokens_table, Key=key, ConsistentRead=True).get("Item")
    if not item:
        return None, 0, 0.0
    values = dynamo.from_item(item)
    stored = int(values.get("failures", 0))
    if float(values.get("expires_at", 0)) <= clock.now_ts():  # past its TTL, not yet swept
        return stored, 0, 0.0
    return stored, stored, float(values.get("locked_until", 0))


def _write(key: dict[str, Any], stored: int | None, failures: int, locked_until: float) -> bool:
    """Compare-and-set: False when another request changed the counter meanwhile."""
    now = clock.now_ts()
    condition = "attribute_not_exists(pk)" if stored is None else "failures = :stored"
    values: dict[str, Any] = {
        ":f": {"N": str(failures)},
        ":l": {"N": repr(round(locked_until, 3))},
        ":e": {"N": str(int(max(now, locked_until) + FORGET_AFTER_SECONDS))},
    }
    if stored is not None:
        values[":stored"] = {"N": str(stored)}
    try:
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=get_settings().tokens_table,
                Key=key,
                UpdateExpression="SET failures = :f, locked_until = :l, expires_at = :e",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
    except Exception as exc:
        if aws.is_conditional_failure(exc):
            return False
        raise
    return True


def _refuse(locked_until: float, now: float) -> TooManyRequests:
    count("LoginsLocked")
    return TooManyRequests(retry_after=max(1.0, locked_until - now))


def check(email: str) -> None:
    """429 with ``Retry-After`` while the e-mail is locked; counts nothing."""
    _, _, locked_until = _read(_key(email))
    now = clock.now_ts()
    if locked_until > now:
        raise _refuse(locked_until, now)


def begin_attempt(email: str) -> None:
    """Check the lock and count this login attempt as a failure, atomically.

    Call :func:`reset` once the password proves right. Raises 429 while locked (and then
    counts nothing).
    """
    key = _key(email)
    for _ in range(_MAX_RETRIES):
        stored, failures, locked_until = _read(key)
        now = clock.now_ts()
        if locked_until > now:
            raise _refuse(locked_until, now)
        failures += 1
        delay = delay_after(failures)
        if _write(key, stored, failures, now + delay if delay else 0.0):
            return
    raise TooManyRequests(retry_after=1)  # heavy contention on one e-mail: let it calm down


def record_failure(email: str) -> None:
    """Count one failure outside a login (a wrong current password on an account route).

    Account routes are not refused by the lock, but their failures count and may extend it.
    """
    key = _key(email)
    for _ in range(_MAX_RETRIES):
        stored, failures, locked_until = _read(key)
        now = clock.now_ts()
        failures += 1
        delay = delay_after(failures)
        lock = max(locked_until, now + delay) if delay else locked_until
        if _write(key, stored, failures, lock):
            return
    raise TooManyRequests(retry_after=1)


def reset(email: str) -> None:
    with aws.unavailable_on_failure():
        aws.dynamodb().delete_item(TableName=get_settings().tokens_table, Key=_key(email))
