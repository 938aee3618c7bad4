"""TokensTable's login sessions, as :mod:`oph.accounts.sessions` uses them.

- ``SESSION#<session id>`` / ``SESSION``: ``account_id``, ``family`` (= the session id),
  ``generation``, ``created_at``, ``refreshed_at``, ``expires_at`` (also the TTL),
  ``refresh_hash``, and ``revoked``, ``revoked_at``, ``revoked_reason`` once revoked;
- ``REFRESH#<sha256 of the token>`` / ``REFRESH``: ``session_id``, ``account_id``,
  ``issued_at``, ``expires_at`` (kept after rotation, so that reuse is recognised).
"""

from __future__ import annotations

from typing import Any

from oph.accounts.account_store import account_from_item, account_key
from oph.accounts.model import Account, RefreshToken, Session
from oph.platform.aws import dynamo
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.platform.transaction import ErrorSpec, Write


def session_key(session_id: str) -> dict[str, Any]:
    return dynamo.key(f"SESSION#{session_id}", "SESSION")


def refresh_key(token_hash: str) -> dict[str, Any]:
    return dynamo.key(f"REFRESH#{token_hash}", "REFRESH")


def _session(values: dict[str, Any]) -> Session:
    return Session(
        session_id=str(values.get("family") or str(values["pk"]).removeprefix("SESSION#")),
        account_id=str(values.get("account_id", "")),
        generation=int(values.get("generation", -1)),
        expires_at=int(values.get("expires_at", 0)),
        refresh_hash=str(values.get("refresh_hash", "")),
        revoked=bool(values.get("revoked")),
    )


class SessionStore:
    def __init__(self, table: str | None = None, accounts_table: str | None = None) -> None:
        settings = get_settings()
        self.table = table or settings.tokens_table
        self.accounts_table = accounts_table or settings.tenants_table

    # -- reads -----------------------------------------------------------------------------
    def get(self, session_id: str) -> Session | None:
        item = dynamo.get(self.table, session_key(session_id))
        return _session(dynamo.from_item(item)) if item else None

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        item = dynamo.get(self.table, refresh_key(token_hash))
        if not item:
            return None
        values = dynamo.from_item(item)
        return RefreshToken(
            token_hash, str(values["session_id"]), str(values.get("account_id", "")), int(values.get("expires_at", 0))
        )

    def account_and_session(self, account_id: str, session_id: str) -> tuple[Account | None, Session | None]:
        """What every authenticated request checks, in ONE round trip (BatchGetItem over the
        two tables), strongly consistent."""
        request: dict[str, Any] = {
            self.accounts_table: {"Keys": [account_key(account_id)], "ConsistentRead": True},
            self.table: {"Keys": [session_key(session_id)], "ConsistentRead": True},
        }
        found = dynamo.batch_get(request)
        account_items = found.get(self.accounts_table) or []
        session_items = found.get(self.table) or []
        account = account_from_item(account_items[0]) if account_items else None
        session = _session(dynamo.from_item(session_items[0])) if session_items else None
        return account, session

    # -- transaction items -----------------------------------------------------------------
    def create_items(self, session: Session, now: int, fails_with: ErrorSpec = None) -> list[Write]:
        """A new session and its first refresh token (``session.refresh_hash``)."""
        values = {
            "account_id": session.account_id,
            "family": session.session_id,
            "generation": session.generation,
            "created_at": now,
            "refreshed_at": now,
            "expires_at": session.expires_at,
            "refresh_hash": session.refresh_hash,
        }
        put = {
            "TableName": self.table,
            "Item": {**session_key(session.session_id), **dynamo.to_item(values)},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        return [
            dynamo.write("session.create", {"Put": put}, fails_with),
            self._refresh_put(session, now, fails_with),
        ]

    def rotate_items(self, session: Session, old_hash: str, now: int, fails_with: ErrorSpec = None) -> list[Write]:
        """Make ``session.refresh_hash`` the current refresh token (and slide
        ``session.expires_at``), if ``old_hash`` still is and the session is not revoked."""
        update = {
            "TableName": self.table,
            "Key": session_key(session.session_id),
            "UpdateExpression": "SET refresh_hash = :new, refreshed_at = :now, expires_at = :exp",
            "ConditionExpression": "refresh_hash = :old AND attribute_not_exists(revoked)",
            "ExpressionAttributeValues": {
                ":new": {"S": session.refresh_hash},
                ":old": {"S": old_hash},
                ":now": {"N": str(now)},
                ":exp": {"N": str(session.expires_at)},
            },
        }
        return [
            dynamo.write("session.rotate", {"Update": update}, fails_with),
            self._refresh_put(session, now, fails_with),
        ]

    def _refresh_put(self, session: Session, now: int, fails_with: ErrorSpec) -> Write:
        values = {
            "session_id": session.session_id,
            "account_id": session.account_id,
            "issued_at": now,
            "expires_at": session.expires_at,
        }
        put = {
            "TableName": self.table,
            "Item": {**refresh_key(session.refresh_hash), **dynamo.to_item(values)},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        return dynamo.write("session.refresh_token", {"Put": put}, fails_with)

    # -- single writes -------------------------------------------------------------------------
    def revoke(self, session_id: str, reason: str, now: int) -> None:
        """Mark the session revoked (nothing if there is no such session)."""
        dynamo.update_if(
            TableName=self.table,
            Key=session_key(session_id),
            UpdateExpression="SET revoked = :t, revoked_at = :now, revoked_reason = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":t": {"BOOL": True}, ":now": {"N": str(now)}, ":r": {"S": reason}},
        )


session_store: Provider[SessionStore] = Provider(SessionStore)
