"""TokensTable's login-failure counters, as :mod:`oph.accounts.login_lock` uses them.

``LOGINFAIL#<hash of the normalised e-mail>`` / ``LOGIN``: ``failures``, ``locked_until``
(epoch seconds, fractional), ``expires_at`` (the TTL). The key is the same whether or not an
account exists, and holds no address in clear.
"""

from __future__ import annotations

from typing import Any

from oph.accounts.model import LoginFailures
from oph.platform import aws
from oph.platform.aws import dynamo
from oph.platform.provider import Provider
from oph.platform.rate_limit_store import hashed
from oph.platform.settings import get_settings
from oph.platform.validation import normalize_email


def _key(email: str) -> dict[str, Any]:
    return dynamo.key(f"LOGINFAIL#{hashed(normalize_email(email))}", "LOGIN")


class LoginLockStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tokens_table

    def get(self, email: str) -> LoginFailures | None:
        """The stored counter, even past its TTL (DynamoDB sweeps expired items late)."""
        item = dynamo.get(self.table, _key(email))
        if not item:
            return None
        values = dynamo.from_item(item)
        return LoginFailures(
            int(values.get("failures", 0)), float(values.get("locked_until", 0)), float(values.get("expires_at", 0))
        )

    def compare_and_set(self, email: str, expected: int | None, counter: LoginFailures) -> bool:
        """Store ``counter`` if the stored failures are still ``expected`` (None: no counter
        yet); False when another request changed it meanwhile."""
        condition = "attribute_not_exists(pk)" if expected is None else "failures = :stored"
        values: dict[str, Any] = {
            ":f": {"N": str(counter.failures)},
            ":l": {"N": repr(round(counter.locked_until, 3))},
            ":e": {"N": str(int(counter.expires_at))},
        }
        if expected is not None:
            values[":stored"] = {"N": str(expected)}
        updated = dynamo.update_if(
            TableName=self.table,
            Key=_key(email),
            UpdateExpression="SET failures = :f, locked_until = :l, expires_at = :e",
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )
        return updated is not None

    def delete(self, email: str) -> None:
        with aws.unavailable_on_failure():
            aws.dynamodb().delete_item(TableName=self.table, Key=_key(email))


login_lock_store: Provider[LoginLockStore] = Provider(LoginLockStore)
