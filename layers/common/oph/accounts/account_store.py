"""TenantsTable as the accounts context lays it out (every key of these items is built here):
``ACCOUNT#<id>`` / ``ACCOUNT`` the account (an :class:`~oph.accounts.model.Account`, plus change
dates and ``email_status_*``); ``EMAIL#<normalised e-mail>`` / ``EMAIL`` and ``HOLDER#<holder
id>`` / ``ACCOUNT``: ``account_id``, one account per e-mail and per holder. Every write that
creates, swaps or deletes an account touches them in one transaction (:class:`Write` items
committed by the use case): no orphan uniqueness item remains. Reads are strongly consistent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from oph.accounts.model import ACTIVE, DEFAULT_PREFERENCES, PENDING, Account
from oph.platform.aws import dynamo
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.platform.transaction import ErrorSpec, Write
from oph.platform.validation import normalize_email

_NOT_DISABLED = "(attribute_not_exists(disabled) OR disabled = :false)"
_FALSE = {"BOOL": False}
# A pending e-mail change ends with its link, which every password change or reset and every
# disabling voids (oph.accounts.token_store.ACCOUNT_CHANGE_LINKS).
_END_EMAIL_CHANGE = "REMOVE pending_email, pending_email_expires_at"


def account_key(account_id: str) -> dict[str, Any]:
    return dynamo.key(f"ACCOUNT#{account_id}", "ACCOUNT")


def email_key(email: str) -> dict[str, Any]:
    return dynamo.key(f"EMAIL#{normalize_email(email)}", "EMAIL")


def holder_key(holder_id: str) -> dict[str, Any]:
    return dynamo.key(f"HOLDER#{holder_id}", "ACCOUNT")


def account_item(account: Account) -> dict[str, Any]:
    return {**account_key(account.account_id), **dynamo.to_item(dict(account.__dict__))}


def account_from_item(item: dict[str, Any]) -> Account:
    values = dynamo.from_item(item)
    account = Account(**{k: v for k, v in values.items() if k in Account.__dataclass_fields__})
    account.preferences = {**DEFAULT_PREFERENCES, **(account.preferences or {})}
    return account


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class AccountStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    # -- reads -----------------------------------------------------------------------------
    def get(self, account_id: str) -> Account | None:
        item = dynamo.get(self.table, account_key(account_id))
        return account_from_item(item) if item else None

    def get_by_email(self, email: str) -> Account | None:
        account_id = self.email_owner(email)
        return self.get(account_id) if account_id else None

    def get_by_holder(self, holder_id: str) -> Account | None:
        account_id = self.holder_owner(holder_id)
        return self.get(account_id) if account_id else None

    def get_by_holders(self, holder_ids: Iterable[str]) -> dict[str, Account]:
        """Each holder's account, holders without one left out: two strongly consistent
        BatchGetItem (the holders' pointers, then their accounts) instead of two GetItem each."""
        pointers = [i for i in self._read(holder_key, holder_ids) if "account_id" in i]
        owners = {i["pk"]["S"].removeprefix("HOLDER#"): i["account_id"]["S"] for i in pointers}
        found = {a.account_id: a for a in map(account_from_item, self._read(account_key, owners.values()))}
        return {holder: found[owner] for holder, owner in owners.items() if owner in found}

    def _read(self, key: Callable[[str], dict[str, Any]], ids: Iterable[str]) -> list[dict[str, Any]]:
        request = {self.table: {"Keys": [key(i) for i in set(ids)], "ConsistentRead": True}}
        return dynamo.batch_get(request).get(self.table, [])

    def email_owner(self, email: str) -> str | None:
        """The account id the ``EMAIL#`` item names, even if that account is gone (a
        conditional write on the item must know what it holds)."""
        return self._pointer(email_key(email))

    def holder_owner(self, holder_id: str) -> str | None:
        return self._pointer(holder_key(holder_id))

    def attributes(self, account_id: str) -> dict[str, Any] | None:
        """Every stored attribute of the account (plain values, keys included): the export."""
        item = dynamo.get(self.table, account_key(account_id))
        return dynamo.from_item(item) if item else None

    def _pointer(self, key: dict[str, Any]) -> str | None:
        item = dynamo.get(self.table, key)
        return str(item["account_id"]["S"]) if item and "account_id" in item else None

    # -- transaction items: creation and uniqueness -------------------------------------------
    def _write(self, name: str, kind: str, request: dict[str, Any], fails_with: ErrorSpec) -> Write:
        return dynamo.write(name, {kind: {"TableName": self.table, **request}}, fails_with)

    def create_item(self, account: Account, fails_with: ErrorSpec = None) -> Write:
        """Put a new account (its id must be unused)."""
        request = {"Item": account_item(account), "ConditionExpression": "attribute_not_exists(pk)"}
        return self._write("account.create", "Put", request, fails_with)

    def put_email_pointer_item(
        self, email: str, account_id: str, *, previous: str | None, fails_with: ErrorSpec = None
    ) -> Write:
        """Point the address at ``account_id``: it must be free (``previous`` None) or still
        point at ``previous``."""
        return self._put_pointer("account.email_pointer", email_key(email), account_id, previous, fails_with)

    def put_holder_pointer_item(
        self, holder_id: str, account_id: str, *, previous: str | None, fails_with: ErrorSpec = None
    ) -> Write:
        return self._put_pointer("account.holder_pointer", holder_key(holder_id), account_id, previous, fails_with)

    def _put_pointer(
        self, name: str, key: dict[str, Any], account_id: str, previous: str | None, fails_with: ErrorSpec
    ) -> Write:
        request: dict[str, Any] = {"Item": {**key, "account_id": _s(account_id)}}
        if previous is None:
            request["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            request["ConditionExpression"] = "account_id = :previous"
            request["ExpressionAttributeValues"] = {":previous": _s(previous)}
        return self._write(name, "Put", request, fails_with)

    def claim_email_item(self, email: str, account_id: str, fails_with: ErrorSpec = None) -> Write:
        """Point the address at ``account_id`` if it is free or already points there."""
        request = {
            "Item": {**email_key(email), "account_id": _s(account_id)},
            "ConditionExpression": "attribute_not_exists(pk) OR account_id = :me",
            "ExpressionAttributeValues": {":me": _s(account_id)},
        }
        return self._write("account.claim_email", "Put", request, fails_with)

    def release_email_item(
        self, email: str, account_id: str, *, or_gone: bool = False, fails_with: ErrorSpec = None
    ) -> Write:
        """Delete the address's item if it points at ``account_id`` (or, ``or_gone``, is absent)."""
        return self._release("account.release_email", email_key(email), account_id, or_gone, fails_with)

    def release_holder_item(
        self, holder_id: str, account_id: str, *, or_gone: bool = False, fails_with: ErrorSpec = None
    ) -> Write:
        return self._release("account.release_holder", holder_key(holder_id), account_id, or_gone, fails_with)

    def _release(self, name: str, key: dict[str, Any], account_id: str, or_gone: bool, fails_with: ErrorSpec) -> Write:
        condition = "account_id = :id"
        if or_gone:
            condition = "attribute_not_exists(pk) OR " + condition
        request = {"Key": key, "ConditionExpression": condition, "ExpressionAttributeValues": {":id": _s(account_id)}}
        return self._write(name, "Delete", request, fails_with)

    def email_pointer_check_item(self, email: str, account_id: str, fails_with: ErrorSpec = None) -> Write:
        """The address still points at ``account_id`` (writes nothing)."""
        request = {
            "Key": email_key(email),
            "ConditionExpression": "account_id = :id",
            "ExpressionAttributeValues": {":id": _s(account_id)},
        }
        return self._write("account.email_check", "ConditionCheck", request, fails_with)

    # -- transaction items: lifecycle ---------------------------------------------------------
    def remove_pending_item(
        self, account_id: str, *, expired_at: int | None = None, fails_with: ErrorSpec = None
    ) -> Write:
        """Delete a pending account; with ``expired_at``, only if it expired by then
        (:func:`oph.accounts.model.pending_expired`, as a condition)."""
        condition = "#s = :pending"
        values: dict[str, Any] = {":pending": _s(PENDING)}
        if expired_at is not None:
            condition += " AND pending_expires_at <= :now"
            values[":now"] = {"N": str(expired_at)}
        request = {
            "Key": account_key(account_id),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": values,
        }
        return self._write("account.remove_pending", "Delete", request, fails_with)

    def activate_item(self, account_id: str, at: str, fails_with: ErrorSpec = None) -> Write:
        """A pending account becomes active (its e-mail is verified)."""
        request = {
            "Key": account_key(account_id),
            "UpdateExpression": "SET #s = :active, verified_at = :at REMOVE pending_expires_at",
            "ConditionExpression": "#s = :pending",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":active": _s(ACTIVE), ":pending": _s(PENDING), ":at": _s(at)},
        }
        return self._write("account.activate", "Update", request, fails_with)

    def delete_items(self, account: Account, fails_with: ErrorSpec = None) -> list[Write]:
        """The account and its two uniqueness items (those unless another account took them)."""
        request = {"Key": account_key(account.account_id), "ConditionExpression": "attribute_exists(pk)"}
        return [
            self._write("account.delete", "Delete", request, fails_with),
            self.release_email_item(account.email, account.account_id, or_gone=True, fails_with=fails_with),
            self.release_holder_item(account.holder_id, account.account_id, or_gone=True, fails_with=fails_with),
        ]

    # -- transaction items: e-mail change ---------------------------------------------------
    def request_email_item(
        self, account: Account, new_email: str, expires_at: int, fails_with: ErrorSpec = None
    ) -> Write:
        """Record a requested new address (while the account still has its current one)."""
        request = {
            "Key": account_key(account.account_id),
            "UpdateExpression": "SET pending_email = :n, pending_email_expires_at = :x",
            "ConditionExpression": "attribute_exists(pk) AND email = :cur",
            "ExpressionAttributeValues": {":n": _s(new_email), ":x": {"N": str(expires_at)}, ":cur": _s(account.email)},
        }
        return self._write("account.request_email", "Update", request, fails_with)

    def withdraw_email_request_item(self, account_id: str, new_email: str, fails_with: ErrorSpec = None) -> Write:
        """Forget the requested address, if it still is ``new_email``."""
        request = {
            "Key": account_key(account_id),
            "UpdateExpression": "REMOVE pending_email, pending_email_expires_at",
            "ConditionExpression": "pending_email = :n",
            "ExpressionAttributeValues": {":n": _s(new_email)},
        }
        return self._write("account.withdraw_email", "Update", request, fails_with)

    def change_email_item(self, account: Account, new_email: str, at: str, fails_with: ErrorSpec = None) -> Write:
        """The account's e-mail becomes ``new_email`` (deliverable, no request pending), if it
        still has its current one."""
        request = {
            "Key": account_key(account.account_id),
            "UpdateExpression": (
                "SET email = :new, email_status = :ok, email_changed_at = :at "
                "REMOVE pending_email, pending_email_expires_at, email_status_reason, email_status_at"
            ),
            "ConditionExpression": "attribute_exists(pk) AND email = :old",
            "ExpressionAttributeValues": {
                ":new": _s(new_email),
                ":ok": _s("ok"),
                ":at": _s(at),
                ":old": _s(account.email),
            },
        }
        return self._write("account.change_email", "Update", request, fails_with)

    # -- transaction items: passwords and sessions ------------------------------------------
    def change_password_item(self, account: Account, new_hash: str, at: str, fails_with: ErrorSpec = None) -> Write:
        """New hash and every session revoked, if the account is as the caller read it: same
        hash, same generation, not disabled."""
        same_generation = "session_generation = :g"
        if account.session_generation == 0:
            same_generation = f"(attribute_not_exists(session_generation) OR {same_generation})"
        request = {
            "Key": account_key(account.account_id),
            "UpdateExpression": f"SET password_hash = :h, password_changed_at = :now ADD session_generation :one {_END_EMAIL_CHANGE}",
            "ConditionExpression": (
                f"attribute_exists(pk) AND password_hash = :old AND {same_generation} AND {_NOT_DISABLED}"
            ),
            "ExpressionAttributeValues": {
                ":h": _s(new_hash),
                ":now": _s(at),
                ":one": {"N": "1"},
                ":old": _s(account.password_hash),
                ":g": {"N": str(account.session_generation)},
                ":false": _FALSE,
            },
        }
        return self._write("account.change_password", "Update", request, fails_with)

    def reset_password_item(self, account: Account, new_hash: str, at: str, fails_with: ErrorSpec = None) -> Write:
        """New hash and every session revoked, if the account is active, enabled and still has
        the e-mail and password the reset link was sent for."""
        request = {
            "Key": account_key(account.account_id),
            "UpdateExpression": f"SET password_hash = :h, password_changed_at = :at ADD session_generation :one {_END_EMAIL_CHANGE}",
            "ConditionExpression": (
                f"attribute_exists(pk) AND #s = :active AND email = :email AND password_hash = :old AND {_NOT_DISABLED}"
            ),
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":h": _s(new_hash),
                ":at": _s(at),
                ":one": {"N": "1"},
                ":active": _s(ACTIVE),
                ":email": _s(account.email),
                ":old": _s(account.password_hash),
                ":false": _FALSE,
            },
        }
        return self._write("account.reset_password", "Update", request, fails_with)

    def generation_check_item(self, account: Account, fails_with: ErrorSpec = None) -> Write:
        """The account still has ``account.session_generation`` and is not disabled."""
        request = {
            "Key": account_key(account.account_id),
            "ConditionExpression": f"attribute_exists(pk) AND session_generation = :g AND {_NOT_DISABLED}",
            "ExpressionAttributeValues": {":g": {"N": str(account.session_generation)}, ":false": _FALSE},
        }
        return self._write("account.generation_check", "ConditionCheck", request, fails_with)

    # -- single writes -------------------------------------------------------------------------
    def revoke_all_sessions(self, account_id: str) -> bool:
        """Increment the session generation; False when there is no such account."""
        return self._update(account_id, "ADD session_generation :one", "attribute_exists(pk)", {":one": {"N": "1"}})

    def disable_item(self, account_id: str, reason: str, at: str, fails_with: ErrorSpec = None) -> Write:
        """Disable the account and revoke every session (the generation goes up), whoever asks
        (``reason``: "admin" or "left_tenancy")."""
        request = {
            "Key": account_key(account_id),
            "UpdateExpression": f"SET disabled = :t, disabled_reason = :r, disabled_at = :at ADD session_generation :one {_END_EMAIL_CHANGE}",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":t": {"BOOL": True}, ":r": _s(reason), ":at": _s(at), ":one": {"N": "1"}},
        }
        return self._write("account.disable", "Update", request, fails_with)

    def enable_item(self, account_id: str, *, only_if_reason: str | None = None, fails_with: ErrorSpec = None) -> Write:
        """Re-enable (old tokens stay dead: disabling raised the generation). With
        ``only_if_reason``, only an account disabled for that reason (a holder listed again is
        not re-enabled when an admin disabled them)."""
        condition = "attribute_exists(pk)"
        values: dict[str, Any] = {":f": _FALSE}
        if only_if_reason is not None:
            condition += " AND disabled_reason = :r"
            values[":r"] = _s(only_if_reason)
        request = {
            "Key": account_key(account_id),
            "UpdateExpression": "SET disabled = :f REMOVE disabled_reason, disabled_at",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        return self._write("account.enable", "Update", request, fails_with)

    def mark_undeliverable(self, account_id: str, email: str, reason: str, at: str) -> bool:
        """Flag the account's address; False when it no longer has ``email`` (or is gone)."""
        return self._update(
            account_id,
            "SET email_status = :u, email_status_reason = :r, email_status_at = :t",
            "attribute_exists(pk) AND email = :e",
            {":u": _s("undeliverable"), ":r": _s(reason), ":t": _s(at), ":e": _s(email)},
        )

    def _update(self, account_id: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        return self._update_returning(account_id, expression, condition, None, values) is not None

    def update_preferences(
        self, account: Account, changed: dict[str, bool], at: str, *, current: dict[str, bool]
    ) -> Account | None:
        """Set the ``changed`` preferences and their change time; the stored account after
        the change, or None if it is gone. ``current``: every preference as the caller read it.

        Nested paths, so two concurrent changes of different preferences both stick; an item
        written without the maps gets them whole instead.
        """
        names = {"#p": "preferences", "#c": "preferences_changed_at"}
        values: dict[str, Any] = {":now": _s(at), ":m": _s("M")}
        sets = []
        for i, (name, value) in enumerate(sorted(changed.items())):
            names[f"#k{i}"] = name
            values[f":v{i}"] = {"BOOL": value}
            sets += [f"#p.#k{i} = :v{i}", f"#c.#k{i} = :now"]
        condition = "attribute_exists(pk) AND attribute_type(#p, :m) AND attribute_type(#c, :m)"
        found = self._update_returning(account.account_id, "SET " + ", ".join(sets), condition, names, values)
        if found is not None:
            return found
        whole = {
            ":p": {**current, **changed},
            ":c": {**account.preferences_changed_at, **dict.fromkeys(changed, at)},
        }
        names = {"#p": "preferences", "#c": "preferences_changed_at"}
        return self._update_returning(
            account.account_id, "SET #p = :p, #c = :c", "attribute_exists(pk)", names, dynamo.to_item(whole)
        )

    def _update_returning(
        self, account_id: str, expression: str, condition: str, names: dict[str, str] | None, values: dict[str, Any]
    ) -> Account | None:
        """A conditional UpdateItem of the account; the account after it, None if unmet."""
        request: dict[str, Any] = {"UpdateExpression": expression, "ConditionExpression": condition}
        if names:
            request["ExpressionAttributeNames"] = names
        updated = dynamo.update_if(
            TableName=self.table,
            Key=account_key(account_id),
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            **request,
        )
        return account_from_item(updated) if updated is not None else None


account_store: Provider[AccountStore] = Provider(AccountStore)
