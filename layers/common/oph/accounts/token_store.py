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

from oph.platform import clock
from oph.platform.aws import dynamo
from oph.platform.errors import ServiceUnavailable, TokenExpired, TokenInvalid
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.platform.transaction import ErrorSpec, RaceLost, Write

CLEANUP_GRACE_SECONDS = 7 * 24 * 3600
MAX_TOKEN_LENGTH = 512

REGISTRATION = "registration"  # step 1 -> step 2, 30 minutes
VERIFY_EMAIL = "verify_email"  # account activation link, 24 hours
RESET_PASSWORD = "reset_password"  # forgotten password link, 1 hour
CHANGE_EMAIL = "change_email"  # new e-mail confirmation link, 24 hours
# Links that act on an account's credentials: a password change or reset, an e-mail change,
# a deletion and a disabling void every outstanding one, in the same transaction as the change
# (contract section 3), so whoever still reads an old mailbox cannot use them afterwards.
ACCOUNT_CHANGE_LINKS = (RESET_PASSWORD, CHANGE_EMAIL)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def new_raw_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Token:
    kind: str
    subject: str
    token_hash: str
    valid_until: int
    data: dict[str, Any] = field(default_factory=dict)


def _key(token_hash: str) -> dict[str, Any]:
    return dynamo.key(f"TOKEN#{token_hash}", "TOKEN")


def _pointer_key(kind: str, subject: str) -> dict[str, Any]:
    return dynamo.key(f"TOKENPTR#{kind}#{subject}", "CURRENT")


class TokenStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tokens_table

    def issue_items(
        self, kind: str, subject: str, ttl_seconds: int, data: dict[str, Any] | None = None
    ) -> tuple[str, list[Write]]:
        """A new raw token and the transaction items that store it and make it the current one."""
        raw = new_raw_token()
        token_hash = hash_token(raw)
        valid_until = int(clock.now_ts()) + ttl_seconds
        expires_at = valid_until + CLEANUP_GRACE_SECONDS
        token_values = {
            "kind": kind,
            "subject": subject,
            "valid_until": valid_until,
            "expires_at": expires_at,
            "data": data or {},
        }
        token_item = {**_key(token_hash), **dynamo.to_item(token_values)}
        pointer_item = {
            **_pointer_key(kind, subject),
            **dynamo.to_item({"token_hash": token_hash, "expires_at": expires_at}),
        }
        return raw, [
            dynamo.write("token.put", {"Put": {"TableName": self.table, "Item": token_item}}),
            dynamo.write("token.make_current", {"Put": {"TableName": self.table, "Item": pointer_item}}),
        ]

    def issue(self, kind: str, subject: str, ttl_seconds: int, data: dict[str, Any] | None = None) -> str:
        """Issue a token on its own (nothing else changes with it); the raw token."""
        raw, items = self.issue_items(kind, subject, ttl_seconds, data)
        try:
            dynamo.commit(items)
        except RaceLost:  # unconditional puts: only a concurrent transaction cancels them
            raise ServiceUnavailable() from None
        return raw

    def peek(self, kind: str, raw: str) -> Token:
        """The token if it is current, unused and unexpired; never consumes it."""
        if not raw or len(raw) > MAX_TOKEN_LENGTH:
            raise TokenInvalid()
        token_hash = hash_token(raw)
        item = dynamo.get(self.table, _key(token_hash))
        if not item:
            raise TokenInvalid()
        values = dynamo.from_item(item)
        if values.get("kind") != kind or values.get("used_at") is not None:
            raise TokenInvalid()
        token = Token(
            kind, str(values["subject"]), token_hash, int(values["valid_until"]), dict(values.get("data") or {})
        )
        pointer = dynamo.get(self.table, _pointer_key(kind, token.subject))
        if not pointer or pointer["token_hash"]["S"] != token_hash:
            raise TokenInvalid()
        if token.valid_until <= clock.now_ts():
            raise TokenExpired()
        return token

    def consume_items(self, token: Token, fails_with: ErrorSpec = TokenInvalid) -> list[Write]:
        """Transaction items marking the token used, valid only if still unused, unexpired and
        current: if another request consumed or superseded it meanwhile, the transaction fails
        with ``fails_with``."""
        now = int(clock.now_ts())
        use = {
            "TableName": self.table,
            "Key": _key(token.token_hash),
            "UpdateExpression": "SET used_at = :now",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(used_at) AND valid_until > :now",
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }
        return [
            dynamo.write("token.use", {"Update": use}, fails_with),
            self._drop_pointer("token.drop_current", token.kind, token.subject, token.token_hash, fails_with),
        ]

    def revoke_items(self, kind: str, subject: str) -> list[Write]:
        """Transaction items voiding every outstanding token of (kind, subject)."""
        request = {"Delete": {"TableName": self.table, "Key": _pointer_key(kind, subject)}}
        return [dynamo.write("token.revoke", request)]

    def void_account_links_items(self, account_id: str, *, consumed: str | None = None) -> list[Write]:
        """Void the account's outstanding reset and confirm-email links (``ACCOUNT_CHANGE_LINKS``),
        except the kind whose token the same transaction consumes (one item per key)."""
        writes: list[Write] = []
        for kind in ACCOUNT_CHANGE_LINKS:
            if kind != consumed:
                writes += self.revoke_items(kind, account_id)
        return writes

    def withdraw_item(self, kind: str, subject: str, token_hash: str, fails_with: ErrorSpec = None) -> Write:
        """Void the token ``token_hash`` if it is still the current one of (kind, subject)."""
        return self._drop_pointer("token.withdraw", kind, subject, token_hash, fails_with)

    def _drop_pointer(self, name: str, kind: str, subject: str, token_hash: str, fails_with: ErrorSpec) -> Write:
        request = {
            "TableName": self.table,
            "Key": _pointer_key(kind, subject),
            "ConditionExpression": "token_hash = :h",
            "ExpressionAttributeValues": {":h": {"S": token_hash}},
        }
        return dynamo.write(name, {"Delete": request}, fails_with)


token_store: Provider[TokenStore] = Provider(TokenStore)
