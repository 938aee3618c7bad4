"""Twins of the accounts context's stores: :class:`oph.accounts.account_store.AccountStore`,
:class:`~oph.accounts.token_store.TokenStore`, :class:`~oph.accounts.session_store.SessionStore`,
:class:`~oph.accounts.login_lock_store.LoginLockStore` and
:class:`~oph.accounts.signing_key_store.SigningKeyStore`.

The account twin keeps each account as the plain values of its item (so ``attributes`` has
what the export reads, extra attributes included) and its uniqueness items as two dicts.
:func:`memory_accounts` swaps every store the accounts use cases reach (tenancy and mailer
included) for a twin, for the unit tier.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from oph.accounts.account_store import account_store
from oph.accounts.adapters.push_queue import push_queue
from oph.accounts.device_store import device_store
from oph.accounts.login_lock_store import login_lock_store
from oph.accounts.model import ACTIVE, DEFAULT_PREFERENCES, PENDING, Account, LoginFailures, RefreshToken, Session
from oph.accounts.session_store import session_store
from oph.accounts.signing_key_store import SigningKeys, signing_key_store
from oph.accounts.token_store import ACCOUNT_CHANGE_LINKS, Token, hash_token, new_raw_token, token_store
from oph.platform import clock
from oph.platform.errors import ServiceUnavailable, TokenExpired, TokenInvalid
from oph.platform.mail import Email, mailer
from oph.platform.rate_limit_store import rate_limiter
from oph.platform.transaction import ErrorSpec, RaceLost, Write, commit_in_memory, memory_write
from oph.platform.validation import normalize_email
from oph.tenancy.store import tenancy_store
from tests.twins.devices import MemoryDeviceStore, MemoryPushQueue
from tests.twins.platform import MemoryRateLimiter
from tests.twins.tenancy import MemoryTenancyStore

# -- accounts ------------------------------------------------------------------------------


def _values(account: Account) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in account.__dict__.items() if v is not None}


class MemoryAccountStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}  # account id -> the item's values
        self.emails: dict[str, str] = {}  # normalised e-mail -> account id
        self.holders: dict[str, str] = {}  # holder id -> account id

    # -- reads
    def get(self, account_id: str) -> Account | None:
        values = self.items.get(account_id)
        if values is None:
            return None
        known = {k: copy.deepcopy(v) for k, v in values.items() if k in Account.__dataclass_fields__}
        account = Account(**known)
        account.preferences = {**DEFAULT_PREFERENCES, **(account.preferences or {})}
        return account

    def get_by_email(self, email: str) -> Account | None:
        account_id = self.email_owner(email)
        return self.get(account_id) if account_id else None

    def get_by_holder(self, holder_id: str) -> Account | None:
        account_id = self.holder_owner(holder_id)
        return self.get(account_id) if account_id else None

    def get_by_holders(self, holder_ids: Iterable[str]) -> dict[str, Account]:
        owners = {holder_id: self.holders.get(holder_id) for holder_id in set(holder_ids)}
        found = {holder_id: self.get(owner) for holder_id, owner in owners.items() if owner}
        return {holder_id: account for holder_id, account in found.items() if account is not None}

    def email_owner(self, email: str) -> str | None:
        return self.emails.get(normalize_email(email))

    def holder_owner(self, holder_id: str) -> str | None:
        return self.holders.get(holder_id)

    def attributes(self, account_id: str) -> dict[str, Any] | None:
        values = self.items.get(account_id)
        if values is None:
            return None
        return {"pk": f"ACCOUNT#{account_id}", "sk": "ACCOUNT", **copy.deepcopy(values)}

    # -- helpers of the items below
    def _item(self, account_id: str) -> dict[str, Any]:
        return self.items.get(account_id) or {}

    def _set(self, account_id: str, **changes: Any) -> None:
        self.items[account_id].update(changes)

    def _drop(self, account_id: str, *names: str) -> None:
        for name in names:
            self.items[account_id].pop(name, None)

    # -- transaction items: creation and uniqueness
    def create_item(self, account: Account, fails_with: ErrorSpec = None) -> Write:
        return memory_write(
            "account.create",
            check=lambda: account.account_id not in self.items,
            apply=lambda: self.items.__setitem__(account.account_id, _values(account)),
            fails_with=fails_with,
        )

    def put_email_pointer_item(
        self, email: str, account_id: str, *, previous: str | None, fails_with: ErrorSpec = None
    ) -> Write:
        return self._put_pointer(
            "account.email_pointer", self.emails, normalize_email(email), account_id, previous, fails_with
        )

    def put_holder_pointer_item(
        self, holder_id: str, account_id: str, *, previous: str | None, fails_with: ErrorSpec = None
    ) -> Write:
        return self._put_pointer("account.holder_pointer", self.holders, holder_id, account_id, previous, fails_with)

    @staticmethod
    def _put_pointer(
        name: str, pointers: dict[str, str], key: str, account_id: str, previous: str | None, fails_with: ErrorSpec
    ) -> Write:
        return memory_write(
            name,
            check=lambda: pointers.get(key) == previous,
            apply=lambda: pointers.__setitem__(key, account_id),
            fails_with=fails_with,
        )

    def claim_email_item(self, email: str, account_id: str, fails_with: ErrorSpec = None) -> Write:
        key = normalize_email(email)
        return memory_write(
            "account.claim_email",
            check=lambda: self.emails.get(key, account_id) == account_id,
            apply=lambda: self.emails.__setitem__(key, account_id),
            fails_with=fails_with,
        )

    def release_email_item(
        self, email: str, account_id: str, *, or_gone: bool = False, fails_with: ErrorSpec = None
    ) -> Write:
        return self._release(
            "account.release_email", self.emails, normalize_email(email), account_id, or_gone, fails_with
        )

    def release_holder_item(
        self, holder_id: str, account_id: str, *, or_gone: bool = False, fails_with: ErrorSpec = None
    ) -> Write:
        return self._release("account.release_holder", self.holders, holder_id, account_id, or_gone, fails_with)

    @staticmethod
    def _release(
        name: str, pointers: dict[str, str], key: str, account_id: str, or_gone: bool, fails_with: ErrorSpec
    ) -> Write:
        return memory_write(
            name,
            check=lambda: pointers.get(key) == account_id or (or_gone and key not in pointers),
            apply=lambda: pointers.pop(key, None),
            fails_with=fails_with,
        )

    def email_pointer_check_item(self, email: str, account_id: str, fails_with: ErrorSpec = None) -> Write:
        key = normalize_email(email)
        return memory_write(
            "account.email_check", check=lambda: self.emails.get(key) == account_id, fails_with=fails_with
        )

    # -- transaction items: lifecycle
    def remove_pending_item(
        self, account_id: str, *, expired_at: int | None = None, fails_with: ErrorSpec = None
    ) -> Write:
        def check() -> bool:
            item = self._item(account_id)
            if item.get("status") != PENDING:
                return False
            expires = item.get("pending_expires_at")
            return expired_at is None or (expires is not None and expires <= expired_at)

        return memory_write(
            "account.remove_pending", check=check, apply=lambda: self.items.pop(account_id, None), fails_with=fails_with
        )

    def activate_item(self, account_id: str, at: str, fails_with: ErrorSpec = None) -> Write:
        def apply() -> None:
            self._set(account_id, status=ACTIVE, verified_at=at)
            self._drop(account_id, "pending_expires_at")

        return memory_write(
            "account.activate",
            check=lambda: self._item(account_id).get("status") == PENDING,
            apply=apply,
            fails_with=fails_with,
        )

    def delete_items(self, account: Account, fails_with: ErrorSpec = None) -> list[Write]:
        me = account.account_id
        return [
            memory_write(
                "account.delete",
                check=lambda: me in self.items,
                apply=lambda: self.items.pop(me, None),
                fails_with=fails_with,
            ),
            self.release_email_item(account.email, me, or_gone=True, fails_with=fails_with),
            self.release_holder_item(account.holder_id, me, or_gone=True, fails_with=fails_with),
        ]

    # -- transaction items: e-mail change
    def request_email_item(
        self, account: Account, new_email: str, expires_at: int, fails_with: ErrorSpec = None
    ) -> Write:
        me, current = account.account_id, account.email
        return memory_write(
            "account.request_email",
            check=lambda: me in self.items and self.items[me].get("email") == current,
            apply=lambda: self._set(me, pending_email=new_email, pending_email_expires_at=expires_at),
            fails_with=fails_with,
        )

    def withdraw_email_request_item(self, account_id: str, new_email: str, fails_with: ErrorSpec = None) -> Write:
        return memory_write(
            "account.withdraw_email",
            check=lambda: self._item(account_id).get("pending_email") == new_email,
            apply=lambda: self._drop(account_id, "pending_email", "pending_email_expires_at"),
            fails_with=fails_with,
        )

    def change_email_item(self, account: Account, new_email: str, at: str, fails_with: ErrorSpec = None) -> Write:
        me, old = account.account_id, account.email

        def apply() -> None:
            self._set(me, email=new_email, email_status="ok", email_changed_at=at)
            self._drop(me, "pending_email", "pending_email_expires_at", "email_status_reason", "email_status_at")

        return memory_write(
            "account.change_email",
            check=lambda: me in self.items and self.items[me].get("email") == old,
            apply=apply,
            fails_with=fails_with,
        )

    # -- transaction items: passwords and sessions
    def _new_password(self, account_id: str, new_hash: str, at: str) -> None:
        generation = int(self.items[account_id].get("session_generation", 0)) + 1
        self._set(account_id, password_hash=new_hash, password_changed_at=at, session_generation=generation)
        self._drop(account_id, "pending_email", "pending_email_expires_at")

    def change_password_item(self, account: Account, new_hash: str, at: str, fails_with: ErrorSpec = None) -> Write:
        me = account.account_id

        def check() -> bool:
            item = self.items.get(me)
            if item is None or item.get("password_hash") != account.password_hash or item.get("disabled"):
                return False
            stored = item.get("session_generation")
            return stored == account.session_generation or (stored is None and account.session_generation == 0)

        return memory_write(
            "account.change_password",
            check=check,
            apply=lambda: self._new_password(me, new_hash, at),
            fails_with=fails_with,
        )

    def reset_password_item(self, account: Account, new_hash: str, at: str, fails_with: ErrorSpec = None) -> Write:
        def check() -> bool:
            item = self._item(account.account_id)
            return (
                item.get("status") == ACTIVE
                and item.get("email") == account.email
                and item.get("password_hash") == account.password_hash
                and not item.get("disabled")
            )

        return memory_write(
            "account.reset_password",
            check=check,
            apply=lambda: self._new_password(account.account_id, new_hash, at),
            fails_with=fails_with,
        )

    def generation_check_item(self, account: Account, fails_with: ErrorSpec = None) -> Write:
        def check() -> bool:
            item = self._item(account.account_id)
            return item.get("session_generation") == account.session_generation and not item.get("disabled")

        return memory_write("account.generation_check", check=check, fails_with=fails_with)

    # -- single writes
    def revoke_all_sessions(self, account_id: str) -> bool:
        if account_id not in self.items:
            return False
        self._set(account_id, session_generation=int(self.items[account_id].get("session_generation", 0)) + 1)
        return True

    def disable_item(self, account_id: str, reason: str, at: str, fails_with: ErrorSpec = None) -> Write:
        def apply() -> None:
            self._set(account_id, disabled=True, disabled_reason=reason, disabled_at=at)
            self._drop(account_id, "pending_email", "pending_email_expires_at")
            self.revoke_all_sessions(account_id)

        return memory_write(
            "account.disable", check=lambda: account_id in self.items, apply=apply, fails_with=fails_with
        )

    def enable_item(self, account_id: str, *, only_if_reason: str | None = None, fails_with: ErrorSpec = None) -> Write:
        def check() -> bool:
            item = self.items.get(account_id)
            return item is not None and (only_if_reason is None or item.get("disabled_reason") == only_if_reason)

        def apply() -> None:
            self._set(account_id, disabled=False)
            self.items[account_id].pop("disabled_reason", None)
            self.items[account_id].pop("disabled_at", None)

        return memory_write("account.enable", check=check, apply=apply, fails_with=fails_with)

    def mark_undeliverable(self, account_id: str, email: str, reason: str, at: str) -> bool:
        if self._item(account_id).get("email") != email:
            return False
        self._set(account_id, email_status="undeliverable", email_status_reason=reason, email_status_at=at)
        return True

    def update_preferences(
        self, account: Account, changed: dict[str, bool], at: str, *, current: dict[str, bool]
    ) -> Account | None:
        item = self.items.get(account.account_id)
        if item is None:
            return None
        if isinstance(item.get("preferences"), dict) and isinstance(item.get("preferences_changed_at"), dict):
            item["preferences"].update(changed)
            item["preferences_changed_at"].update(dict.fromkeys(changed, at))
        else:
            item["preferences"] = {**current, **changed}
            item["preferences_changed_at"] = {**account.preferences_changed_at, **dict.fromkeys(changed, at)}
        return self.get(account.account_id)


# -- tokens --------------------------------------------------------------------------------


class MemoryTokenStore:
    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}  # hash -> kind, subject, valid_until, data, used_at
        self.current: dict[tuple[str, str], str] = {}  # (kind, subject) -> hash of the newest

    def issue_items(
        self, kind: str, subject: str, ttl_seconds: int, data: dict[str, Any] | None = None
    ) -> tuple[str, list[Write]]:
        raw = new_raw_token()
        token_hash = hash_token(raw)
        values = {"kind": kind, "subject": subject, "valid_until": int(clock.now_ts()) + ttl_seconds}
        values["data"] = copy.deepcopy(data or {})
        return raw, [
            memory_write("token.put", apply=lambda: self.tokens.__setitem__(token_hash, values)),
            memory_write("token.make_current", apply=lambda: self.current.__setitem__((kind, subject), token_hash)),
        ]

    def issue(self, kind: str, subject: str, ttl_seconds: int, data: dict[str, Any] | None = None) -> str:
        raw, items = self.issue_items(kind, subject, ttl_seconds, data)
        try:
            commit_in_memory(items)
        except RaceLost:
            raise ServiceUnavailable() from None
        return raw

    def peek(self, kind: str, raw: str) -> Token:
        if not raw or len(raw) > 512:
            raise TokenInvalid()
        token_hash = hash_token(raw)
        values = self.tokens.get(token_hash)
        if values is None or values["kind"] != kind or values.get("used_at") is not None:
            raise TokenInvalid()
        if self.current.get((kind, values["subject"])) != token_hash:
            raise TokenInvalid()
        if values["valid_until"] <= clock.now_ts():
            raise TokenExpired()
        return Token(kind, values["subject"], token_hash, values["valid_until"], copy.deepcopy(values["data"]))

    def consume_items(self, token: Token, fails_with: ErrorSpec = TokenInvalid) -> list[Write]:
        now = int(clock.now_ts())

        def usable() -> bool:
            values = self.tokens.get(token.token_hash)
            return values is not None and values.get("used_at") is None and values["valid_until"] > now

        return [
            memory_write(
                "token.use",
                check=usable,
                apply=lambda: self.tokens[token.token_hash].__setitem__("used_at", now),
                fails_with=fails_with,
            ),
            self.withdraw_item(token.kind, token.subject, token.token_hash, fails_with),
        ]

    def revoke_items(self, kind: str, subject: str) -> list[Write]:
        return [memory_write("token.revoke", apply=lambda: self.current.pop((kind, subject), None))]

    def void_account_links_items(self, account_id: str, *, consumed: str | None = None) -> list[Write]:
        writes: list[Write] = []
        for kind in ACCOUNT_CHANGE_LINKS:
            if kind != consumed:
                writes += self.revoke_items(kind, account_id)
        return writes

    def withdraw_item(self, kind: str, subject: str, token_hash: str, fails_with: ErrorSpec = None) -> Write:
        return memory_write(
            "token.withdraw",
            check=lambda: self.current.get((kind, subject)) == token_hash,
            apply=lambda: self.current.pop((kind, subject), None),
            fails_with=fails_with,
        )


# -- sessions ------------------------------------------------------------------------------


class MemorySessionStore:
    def __init__(self, accounts: MemoryAccountStore | None = None) -> None:
        self.accounts = accounts or MemoryAccountStore()
        self.sessions: dict[str, Session] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.revocations: dict[str, str] = {}  # session id -> reason

    def get(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    def get_refresh(self, token_hash: str) -> RefreshToken | None:
        return self.refresh_tokens.get(token_hash)

    def account_and_session(self, account_id: str, session_id: str) -> tuple[Account | None, Session | None]:
        return self.accounts.get(account_id), self.get(session_id)

    def create_items(self, session: Session, now: int, fails_with: ErrorSpec = None) -> list[Write]:
        return [
            memory_write(
                "session.create",
                check=lambda: session.session_id not in self.sessions,
                apply=lambda: self.sessions.__setitem__(session.session_id, session),
                fails_with=fails_with,
            ),
            self._refresh_put(session, fails_with),
        ]

    def rotate_items(self, session: Session, old_hash: str, now: int, fails_with: ErrorSpec = None) -> list[Write]:
        def check() -> bool:
            stored = self.sessions.get(session.session_id)
            return stored is not None and stored.refresh_hash == old_hash and not stored.revoked

        def apply() -> None:
            stored = self.sessions[session.session_id]
            self.sessions[session.session_id] = Session(
                stored.session_id, stored.account_id, stored.generation, session.expires_at, session.refresh_hash
            )

        return [
            memory_write("session.rotate", check=check, apply=apply, fails_with=fails_with),
            self._refresh_put(session, fails_with),
        ]

    def _refresh_put(self, session: Session, fails_with: ErrorSpec) -> Write:
        token = RefreshToken(session.refresh_hash, session.session_id, session.account_id, session.expires_at)
        return memory_write(
            "session.refresh_token",
            check=lambda: token.token_hash not in self.refresh_tokens,
            apply=lambda: self.refresh_tokens.__setitem__(token.token_hash, token),
            fails_with=fails_with,
        )

    def revoke(self, session_id: str, reason: str, now: int) -> None:
        stored = self.sessions.get(session_id)
        if stored is None:
            return
        self.sessions[session_id] = Session(
            stored.session_id, stored.account_id, stored.generation, stored.expires_at, stored.refresh_hash, True
        )
        self.revocations[session_id] = reason


# -- the login lock and the signing keys ---------------------------------------------------


class MemoryLoginLockStore:
    def __init__(self) -> None:
        self.counters: dict[str, LoginFailures] = {}  # by normalised e-mail

    def get(self, email: str) -> LoginFailures | None:
        return self.counters.get(normalize_email(email))

    def compare_and_set(self, email: str, expected: int | None, counter: LoginFailures) -> bool:
        stored = self.counters.get(normalize_email(email))
        if (stored.failures if stored is not None else None) != expected:
            return False
        self.counters[normalize_email(email)] = counter
        return True

    def delete(self, email: str) -> None:
        self.counters.pop(normalize_email(email), None)


class MemorySigningKeyStore:
    def __init__(self, keys: SigningKeys | None = None) -> None:
        self.current = keys or SigningKeys("test-key", b"a-test-signing-key-of-32-bytes!!", {})

    def keys(self) -> SigningKeys:
        return self.current

    def refreshed_keys(self) -> SigningKeys:
        return self.current


# -- everything the accounts use cases reach -----------------------------------------------


@dataclass
class Outbox:
    """A mailer keeping what it is given."""

    sent: list[Email] = field(default_factory=list)

    def send(self, email: Email) -> None:
        self.sent.append(email)

    def to(self, address: str) -> list[Email]:
        return [m for m in self.sent if address in m.to]


@dataclass
class AccountsTwin:
    accounts: MemoryAccountStore
    tokens: MemoryTokenStore
    sessions: MemorySessionStore
    locks: MemoryLoginLockStore
    keys: MemorySigningKeyStore
    tenancy: MemoryTenancyStore
    outbox: Outbox
    limits: MemoryRateLimiter = field(default_factory=MemoryRateLimiter)
    devices: MemoryDeviceStore = field(default_factory=MemoryDeviceStore)
    push_queue: MemoryPushQueue = field(default_factory=MemoryPushQueue)


@contextmanager
def memory_accounts() -> Iterator[AccountsTwin]:
    """Every store of the accounts use cases (and the tenancy store, the mailer and the push
    queue) swapped for a twin for the ``with`` block."""
    accounts = MemoryAccountStore()
    twin = AccountsTwin(
        accounts,
        MemoryTokenStore(),
        MemorySessionStore(accounts),
        MemoryLoginLockStore(),
        MemorySigningKeyStore(),
        MemoryTenancyStore(),
        Outbox(),
    )
    with ExitStack() as stack:
        stack.enter_context(account_store.override(twin.accounts))  # type: ignore[arg-type]
        stack.enter_context(token_store.override(twin.tokens))  # type: ignore[arg-type]
        stack.enter_context(session_store.override(twin.sessions))  # type: ignore[arg-type]
        stack.enter_context(login_lock_store.override(twin.locks))  # type: ignore[arg-type]
        stack.enter_context(signing_key_store.override(twin.keys))  # type: ignore[arg-type]
        stack.enter_context(tenancy_store.override(twin.tenancy))  # type: ignore[arg-type]
        stack.enter_context(mailer.override(twin.outbox))
        stack.enter_context(rate_limiter.override(twin.limits))  # type: ignore[arg-type]
        stack.enter_context(device_store.override(twin.devices))  # type: ignore[arg-type]
        stack.enter_context(push_queue.override(twin.push_queue))  # type: ignore[arg-type]
        yield twin
