"""Online accounts of holders, and the two uniqueness items that guard them.

TenantsTable keys:
- ``ACCOUNT#<account id>`` / ``ACCOUNT``: the account (see :class:`Account`);
- ``EMAIL#<normalised e-mail>`` / ``EMAIL``: ``account_id`` - one account per e-mail;
- ``HOLDER#<holder id>`` / ``ACCOUNT``: ``account_id`` - one account per holder.

Every write that creates, swaps or deletes an account touches these items in one DynamoDB
transaction, so no orphan uniqueness item can remain. A pending account (e-mail not yet
confirmed) holds its e-mail until ``pending_expires_at`` (7 days); past that, whoever
registers with the address may take it over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oph.platform import aws
from oph.platform.aws import dynamo
from oph.platform.settings import get_settings

PENDING = "pending"
ACTIVE = "active"
DEFAULT_PREFERENCES = {"notice_emails": True, "receipts_by_email": False}


def normalize_email(value: str) -> str:
    return value.strip().lower()


def account_key(account_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}


def email_key(email: str) -> dict[str, Any]:
    return {"pk": {"S": f"EMAIL#{normalize_email(email)}"}, "sk": {"S": "EMAIL"}}


def holder_key(holder_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"HOLDER#{holder_id}"}, "sk": {"S": "ACCOUNT"}}


@dataclass
class Account:
    account_id: str
    tenant_number: str
    holder_id: str
    email: str
    status: str  # pending | active
    password_hash: str
    first_name: str = ""
    last_name: str = ""
    created_at: str = ""  # instant
    verified_at: str | None = None
    pending_expires_at: int | None = None  # epoch seconds, pending accounts only
    terms_version: str = ""
    terms_accepted_at: str = ""
    disabled: bool = False
    email_status: str = "ok"  # ok | undeliverable
    preferences: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PREFERENCES))
    preferences_changed_at: dict[str, str] = field(default_factory=dict)
    pending_email: str | None = None
    pending_email_expires_at: int | None = None
    # Every access and refresh token carries the generation it was issued under; revoking all
    # sessions (password change or reset, disabling, deletion) increments it, so earlier
    # tokens are refused from their next use on, not merely at expiry.
    session_generation: int = 0

    def to_item(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        return {**account_key(self.account_id), **dynamo.to_item(values)}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Account:
        values = dynamo.from_item(item)
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        account = cls(**known)
        account.preferences = {**DEFAULT_PREFERENCES, **(account.preferences or {})}
        return account


class AccountRepository:
    """Reads shared by every function; the use cases own their transactional writes."""

    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    def get(self, account_id: str) -> Account | None:
        with aws.unavailable_on_failure():
            item = (
                aws.dynamodb()
                .get_item(TableName=self.table, Key=account_key(account_id), ConsistentRead=True)
                .get("Item")
            )
        return Account.from_item(item) if item else None

    def _pointer(self, key: dict[str, Any]) -> str | None:
        with aws.unavailable_on_failure():
            item = aws.dynamodb().get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return item["account_id"]["S"] if item else None

    def get_by_email(self, email: str) -> Account | None:
        account_id = self._pointer(email_key(email))
        return self.get(account_id) if account_id else None

    def get_by_holder(self, holder_id: str) -> Account | None:
        account_id = self._pointer(holder_key(holder_id))
        return self.get(account_id) if account_id else None
