"""Single-use secret tokens sent by e-mail or handed between registration steps.

A token is 256 random bits, given to its holder once and stored only as its SHA-256 hash
(TokensTable ``TOKEN#<hash>`` / ``TOKEN``). For each (kind, subject) a pointer item
``TOKENPTR#<kind>#<subject>`` / ``CURRENT`` names the newest token: issuing a new one
supersedes the older ones ("earlier links stop working"). Expiry is checked on read against
``valid_until``; DynamoDB's TTL (``expires_at``, a week later) only cleans up, so an expired
token still answers ``token_expired`` rather than ``token_invalid`` for a while.

``peek`` never consumes (mail scanners open links); consumption is a conditional write that
use cases put in the same transaction as the change it authorises (``consume_items``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import TokenExpired, TokenInvalid
from oph.platform.settings import get_settings

CLEANUP_GRACE_SECONDS = 7 * 24 * 3600

REGISTRATION = "registration"  # step 1 -> step 2, 30 minutes
VERIFY_EMAIL = "verify_email"  # account activation link, 24 hours
RESET_PASSWORD = "reset_password"  # forgotten password link, 1 hour
CHANGE_EMAIL = "change_email"  # new e-mail confirmation link, 24 hours


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Token:
    kind: str
    subject: str
    token_hash: str
    valid_until: int
    data: dict[str, Any] = field(default_factory=dict)


class TokenStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tokens_table

    def _key(self, token_hash: str) -> dict[str, Any]:
        return {"pk": {"S": f"TOKEN#{token_hash}"}, "sk": {"S": "TOKEN"}}

    def _pointer_key(self, kind: str, subject: str) -> dict[str, Any]:
        return {"pk": {"S": f"TOKENPTR#{kind}#{subject}"}, "sk": {"S": "CURRENT"}}

    def issue_items(
        self, kind: str, subject: str, ttl_seconds: int, data: dict[str, Any] | None = None
    ) -> tuple[str, list[dict[str, Any]]]:
        """A new raw token and the transaction items that store it and make it the current one."""
        raw = secrets.token_urlsafe(32)
        token_hash = hash_token(raw)
        valid_until = int(clock.now_ts()) + ttl_seconds
        expires_at = valid_until + CLEANUP_GRACE_SECONDS
        token_item = {
            **self._key(token_hash),
            **dynamo.to_item(
                {
                    "kind": kind,
                    "subject": subject,
                    "valid_until": valid_until,
                    "expires_at": expires_at,
                    "data": data or {},
                }
            ),
        }
        pointer_item = {
            **self._pointer_key(kind, subject),
            **dynamo.to_item({"token_hash": token_hash, "expires_at": expires_at}),
        }
        return raw, [
            {"Put": {"TableName": self.table, "Item": token_item}},
            {"Put": {"TableName": self.table, "Item": pointer_item}},
        ]

    def issue(self, kind: str, subject: str, ttl_seconds: int, data: dict[str, Any] | None = None) -> str:
        raw, items = self.issue_items(kind, subject, ttl_seconds, data)
        with aws.unavailable_on_failure():
            aws.dynamodb().transact_write_items(TransactItems=items)
        return raw

    def peek(self, kind: str, raw: str) -> Token:
        """The token if it is current, unused and unexpired; never consumes it."""
        if not raw or len(raw) > 512:
            raise TokenInvalid()
        token_hash = hash_token(raw)
        with aws.unavailable_on_failure():
            item = (
                aws.dynamodb()
                .get_item(TableName=self.table, Key=self._key(token_hash), ConsistentRead=True)
                .get("Item")
            )
        if not item:
            raise TokenInvalid()
        values = dynamo.from_item(item)
        if values.get("kind") != kind or values.get("used_at") is not None:
            raise TokenInvalid()
        token = Token(
            kind, str(values["subject"]), token_hash, int(values["valid_until"]), dict(values.get("data") or {})
        )
        if not self._is_current(token):
            raise TokenInvalid()
        if token.valid_until <= clock.now_ts():
            raise TokenExpired()
        return token

    def _is_current(self, token: Token) -> bool:
        with aws.unavailable_on_failure():
            item = (
                aws.dynamodb()
                .get_item(TableName=self.table, Key=self._pointer_key(token.kind, token.subject), ConsistentRead=True)
                .get("Item")
            )
        return bool(item) and item["token_hash"]["S"] == token.token_hash

    def consume_items(self, token: Token) -> list[dict[str, Any]]:
        """Transaction items marking the token used, valid only if still unused and current.

        If another request consumed or superseded it meanwhile, the transaction is cancelled
        (the caller answers ``token_invalid``).
        """
        now = int(clock.now_ts())
        return [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": self._key(token.token_hash),
                    "UpdateExpression": "SET used_at = :now",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(used_at) AND valid_until > :now",
                    "ExpressionAttributeValues": {":now": {"N": str(now)}},
                }
            },
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": self._pointer_key(token.kind, token.subject),
                    "ConditionExpression": "token_hash = :h",
                    "ExpressionAttributeValues": {":h": {"S": token.token_hash}},
                }
            },
        ]

    def consume(self, kind: str, raw: str) -> Token:
        """Peek and consume in one go, for uses that change nothing else atomically."""
        token = self.peek(kind, raw)
        try:
            with aws.unavailable_on_failure():
                aws.dynamodb().transact_write_items(TransactItems=self.consume_items(token))
        except Exception as exc:
            if aws.error_code(exc) == "TransactionCanceledException":
                raise TokenInvalid() from None
            raise
        return token

    def revoke_items(self, kind: str, subject: str) -> list[dict[str, Any]]:
        """Transaction items voiding every outstanding token of (kind, subject)."""
        return [{"Delete": {"TableName": self.table, "Key": self._pointer_key(kind, subject)}}]

    def revoke(self, kind: str, subject: str) -> None:
        with aws.unavailable_on_failure():
            aws.dynamodb().delete_item(TableName=self.table, Key=self._pointer_key(kind, subject))
