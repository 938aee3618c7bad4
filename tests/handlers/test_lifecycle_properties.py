"""Property-based, stateful tests of the account lifecycle and of payments (hypothesis).

A model of what the contract promises is driven through the real handlers (in-process, on
moto) by random sequences of: registration (steps 1 and 2), verification, resend, login,
refresh (and reuse of rotated tokens), logout, e-mail change and its confirmation, password
change, forgotten password and reset, deletion, registering again, the clock moving on, and
payments with their gateway notifications arriving in random orders (refused, abandoned and
succeeded copies). Three holders (two co-holders of one tenancy) and four addresses keep
collisions frequent.

After every step:
- TenantsTable is scanned: at most one account per holder and per e-mail, every ``EMAIL#``
  and ``HOLDER#`` item points to an existing account whose e-mail/holder matches, every
  account has exactly its two pointers (no orphan), and the accounts are the model's;
- every payment has the model's status: a succeeded payment never changes, and it has one
  paid-day index item and at most one confirmation e-mail;
- after every batch of notifications, the tenancy's position (``GET /v1/payments/balance``'s
  use case) counts each succeeded payment once in ``pending_cents``.
Whenever a session dies (logout, refresh reuse, password change or reset, deletion) every
access and refresh token it ever had is checked refused, and dead tokens are re-checked later.

Run size: ``HYPOTHESIS_PROFILE=ci`` (default, CI-sized) or ``HYPOTHESIS_PROFILE=long``.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from oph.accounts.account_store import email_key
from oph.platform import aws as oph_aws
from oph.platform import clock
from oph.platform.settings import get_settings
from oph.tenancy.model import Holder
from oph.tenancy.store import TenancyStore
from tests.factories import make_tenant
from tests.handlers.test_faults import assert_accounts_consistent, scan

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
}
PROFILES = {
    "ci": settings(max_examples=15, stateful_step_count=25, **_COMMON),  # type: ignore[arg-type]
    "long": settings(max_examples=400, stateful_step_count=60, **_COMMON),  # type: ignore[arg-type]
}
PROFILE = PROFILES.get(os.environ.get("HYPOTHESIS_PROFILE", "ci"), PROFILES["ci"])

PASSWORDS = ("Correct-Cheval-Pile-42", "Velo-Rouge-Tulipe-93", "Lune-Verte-Cactus-17")
EMAILS = tuple(f"locataire.{c}@exemple.com" for c in "abcd")
MINUTE, HOUR, DAY = 60, 3600, 24 * 3600
ACCESS_TTL, REFRESH_TTL = 15 * MINUTE, 30 * DAY
# vads_trans_status of the copies the gateway sends -> the status it leads to (None: not final)
OUTCOMES: dict[str, str | None] = {
    "AUTHORISED": "succeeded",
    "CAPTURED": "succeeded",
    "REFUSED": "refused",
    "ABANDONED": "abandoned",
    "CANCELLED": "abandoned",
    "EXPIRED": "expired",
    "UNDER_VERIFICATION": None,
}
STATS = {"examples": 0, "steps": 0, "tokens_checked": 0, "notifications": 0}


@dataclass
class Session:
    holder: int
    account_id: str
    refresh: str
    access: list[tuple[str, int]]  # (token, issued at, model time)
    refreshed_at: int
    old_refresh: list[str] = field(default_factory=list)
    live: bool = True


@dataclass
class Account:
    account_id: str
    email: str
    status: str  # pending | active
    password: str
    created_at: int
    verify: list[tuple[str, int]] = field(default_factory=list)  # links, oldest first
    change: tuple[str, str | None, int] | None = None  # (new e-mail, link or None, requested at)
    reset: tuple[str, int] | None = None
    change_requests: int = 0

    def expired_pending(self, now: int) -> bool:
        return self.status == "pending" and now - self.created_at >= 7 * DAY

    def holds_email(self, now: int) -> bool:
        return self.status == "active" or not self.expired_pending(now)


@dataclass
class Payment:
    payment_id: str
    tenant_number: str
    amount_cents: int
    status: str = "created"


class Lifecycle(RuleBasedStateMachine):
    client: Any = None

    def __init__(self) -> None:
        super().__init__()
        STATS["examples"] += 1
        _wipe()
        clock.set_offset(0)
        from devserver import outbox

        outbox.clear()
        self.now = 0
        sophie = make_tenant(last_name="MARTIN", first_name="Sophie", birth_date="1980-02-29")
        paul = Holder(sophie.holder.tenant_number, "MARTIN", "Paul", "1978-06-15")
        TenancyStore().put_holder(paul)
        awa = make_tenant(last_name="DIALLO", first_name="Awa", birth_date="1990-12-01")
        self.holders = [sophie.holder, paul, awa.holder]
        self.accounts: dict[int, Account] = {}
        self.sessions: list[Session] = []
        self.dead_access: list[str] = []
        self.dead_refresh: list[str] = []
        self.payments: list[Payment] = []
        self.mail_seen = 0
        self.mail_log: list[dict[str, Any]] = []
        self.per_hour: dict[tuple[str, str], int] = {}

    # ------------------------------------------------------------ helpers
    def _mails(self) -> list[dict[str, Any]]:
        """The e-mails sent since the last call (parsed once: parsing MIME is not free)."""
        from devserver import outbox

        backend = outbox._backend()
        sent = backend.sent_messages
        if len(sent) == self.mail_seen:
            return []
        backend.sent_messages = sent[self.mail_seen :]
        try:
            fresh = outbox.messages()
        finally:
            backend.sent_messages = sent
        self.mail_seen = len(sent)
        self.mail_log += fresh
        return fresh

    @staticmethod
    def _link(mails: list[dict[str, Any]], to: str, page: str) -> str | None:
        found = None
        for message in mails:
            if to in message["to"]:
                match = re.search(rf"/links/{page}\?token=([A-Za-z0-9_%-]+)", message["text"])
                if match:
                    found = match.group(1)
        return found

    def _identity(self, h: int) -> dict[str, str]:
        holder = self.holders[h]
        return {
            "tenant_number": holder.tenant_number,
            "last_name": holder.last_name,
            "first_name": holder.first_name,
            "birth_date": holder.birth_date,
        }

    def _owner(self, email: str) -> int | None:
        return next((h for h, a in self.accounts.items() if a.email == email), None)

    def _budget(self, name: str, key: str, limit: int) -> bool:
        """True if one more request fits the hour's budget (counted conservatively)."""
        used = self.per_hour.get((name, key), 0)
        if used >= limit:
            return False
        self.per_hour[(name, key)] = used + 1
        return True

    def _kill(self, session: Session) -> None:
        session.live = False
        self.dead_access += [token for token, _ in session.access]
        self.dead_refresh += [session.refresh, *session.old_refresh]
        for token, _ in session.access:
            self._refused_access(token)
        for token in (session.refresh, *session.old_refresh):
            self._refused_refresh(token)

    def _kill_all(self, h: int) -> None:
        for session in self.sessions:
            if session.holder == h and session.live:
                self._kill(session)

    def _refused_access(self, token: str) -> None:
        STATS["tokens_checked"] += 1
        reply = self.client.get("/v1/account", token=token)
        assert reply.status == 401, reply.text
        assert reply.json()["code"] == "unauthorized"

    def _refused_refresh(self, token: str) -> None:
        STATS["tokens_checked"] += 1
        reply = self.client.post("/v1/auth/refresh", {"refresh_token": token})
        assert reply.status == 401, reply.text

    def _open_session(self, h: int, body: dict[str, Any]) -> Session:
        account = self.accounts[h]
        session = Session(h, account.account_id, body["refresh_token"], [(body["access_token"], self.now)], self.now)
        self.sessions.append(session)
        return session

    def _access_for(self, h: int) -> str | None:
        """A working access token of holder h: a live one, else a fresh login."""
        account = self.accounts.get(h)
        if account is None or account.status != "active":
            return None
        for session in reversed(self.sessions):
            if session.holder == h and session.live and session.account_id == account.account_id:
                token, issued = session.access[-1]
                if self.now - issued < ACCESS_TTL:
                    return token
        reply = self.client.post("/v1/auth/login", {"email": account.email, "password": account.password})
        assert reply.status == 200, reply.text
        return self._open_session(h, reply.json()).access[-1][0]

    def _active(self) -> list[int]:
        return sorted(h for h, a in self.accounts.items() if a.status == "active")

    def _pending(self) -> list[int]:
        return sorted(h for h, a in self.accounts.items() if a.status == "pending")

    def _pick(self, holders: list[int], i: int) -> int:
        STATS["steps"] += 1
        return holders[i % len(holders)]

    def _remove_account(self, h: int) -> None:
        self._kill_all(h)
        del self.accounts[h]

    # ------------------------------------------------------------ registration
    @rule(h=st.integers(0, 2), e=st.integers(0, 3), p=st.integers(0, 2))
    def register(self, h: int, e: int, p: int) -> None:
        STATS["steps"] += 1
        email, password = EMAILS[e], PASSWORDS[p]
        mine = self.accounts.get(h)
        first = self.client.post("/v1/registrations/identity", self._identity(h))
        if mine is not None and mine.status == "active":
            assert first.status == 409 and first.json()["code"] == "account_exists", first.text
            return
        assert first.status == 200, first.text
        self._mails()
        reply = self.client.post(
            "/v1/registrations",
            {
                "registration_token": first.json()["registration_token"],
                "email": email,
                "email_confirmation": email,
                "password": password,
                "password_confirmation": password,
                "accept_terms": True,
            },
        )
        assert reply.status == 201, reply.text
        assert reply.json() == {"status": "pending_verification", "email": email}
        mails = self._mails()
        owner = self._owner(email)
        if mine is not None:  # a pending account is replaced (or dropped, below)
            del self.accounts[h]
        if owner is not None and owner != h and self.accounts[owner].holds_email(self.now):
            # The address is someone else's: same answer, its owner is told; nothing created.
            assert self._link(mails, email, "verify-email") is None
            assert any(email in m["to"] for m in mails)
            return
        if owner is not None and owner != h:  # an expired pending account releases its address
            del self.accounts[owner]
        link = self._link(mails, email, "verify-email")
        assert link, "no verification link"
        pointer = oph_aws.dynamodb().get_item(TableName=get_settings().tenants_table, Key=email_key(email))
        account_id = pointer["Item"]["account_id"]["S"]
        self.accounts[h] = Account(account_id, email, "pending", password, self.now, verify=[(link, self.now)])

    @rule(h=st.integers(0, 2), e=st.integers(0, 3), p=st.integers(0, 2))
    def register_and_verify(self, h: int, e: int, p: int) -> None:
        """The common path in one step (so later steps often have active accounts to act on)."""
        self.register(h, e, p)
        account = self.accounts.get(h)
        if account is not None and account.status == "pending" and account.email == EMAILS[e]:
            self.verify(self._pending().index(h), oldest=False)

    @precondition(lambda self: self._pending())
    @rule(i=st.integers(0, 9), oldest=st.booleans())
    def verify(self, i: int, oldest: bool) -> None:
        account = self.accounts[self._pick(self._pending(), i)]
        link, sent_at = account.verify[0] if oldest else account.verify[-1]
        reply = self.client.post("/v1/registrations/verify", {"token": link})
        if account.status == "active" or (oldest and len(account.verify) > 1):
            assert reply.status == 400 and reply.json()["code"] == "token_invalid", reply.text
        elif self.now - sent_at >= DAY or account.expired_pending(self.now):
            assert reply.status == 400 and reply.json()["code"] == "token_expired", reply.text
        else:
            assert reply.status == 200 and reply.json() == {"status": "active"}, reply.text
            account.status = "active"

    @precondition(lambda self: self._pending())
    @rule(i=st.integers(0, 9))
    def resend(self, i: int) -> None:
        account = self.accounts[self._pick(self._pending(), i)]
        if not self._budget("resend", account.email, 5):
            return
        self._mails()
        assert self.client.post("/v1/registrations/resend", {"email": account.email}).status == 202
        link = self._link(self._mails(), account.email, "verify-email")
        if account.expired_pending(self.now):
            assert link is None
        else:
            assert link
            account.verify.append((link, self.now))

    # ------------------------------------------------------------ sessions
    @precondition(lambda self: self.accounts)
    @rule(i=st.integers(0, 9))
    def login(self, i: int) -> None:
        h = self._pick(sorted(self.accounts), i)
        account = self.accounts[h]
        if account.expired_pending(self.now):
            return  # a refused login would count toward the throttle of the address
        reply = self.client.post("/v1/auth/login", {"email": account.email, "password": account.password})
        if account.status == "pending":
            assert reply.status == 403 and reply.json()["code"] == "email_not_verified", reply.text
            return
        assert reply.status == 200, reply.text
        self._open_session(h, reply.json())

    @precondition(lambda self: self.sessions)
    @rule(i=st.integers(0, 99), rotated=st.booleans())
    def refresh(self, i: int, rotated: bool) -> None:
        STATS["steps"] += 1
        session = self.sessions[i % len(self.sessions)]
        reuse = rotated and bool(session.old_refresh)
        token = session.old_refresh[-1] if reuse else session.refresh
        reply = self.client.post("/v1/auth/refresh", {"refresh_token": token})
        if not session.live or self.now - session.refreshed_at >= REFRESH_TTL:
            assert reply.status == 401, reply.text
            if session.live:
                self._kill(session)  # expired: every token of it is refused from now on
            return
        if reuse:  # a rotated token came back: it leaked, the whole family dies
            assert reply.status == 401, reply.text
            self._kill(session)
            return
        assert reply.status == 200, reply.text
        body = reply.json()
        assert body["refresh_token"] != token
        session.old_refresh.append(token)
        session.refresh = body["refresh_token"]
        session.access.append((body["access_token"], self.now))
        session.refreshed_at = self.now

    @precondition(lambda self: self.sessions)
    @rule(i=st.integers(0, 99))
    def use_access_token(self, i: int) -> None:
        STATS["steps"] += 1
        session = self.sessions[i % len(self.sessions)]
        token, issued = session.access[-1]
        reply = self.client.get("/v1/account", token=token)
        if session.live and self.now - issued < ACCESS_TTL:
            assert reply.status == 200, reply.text
            assert reply.json()["email"] == self.accounts[session.holder].email
        else:
            assert reply.status == 401, reply.text

    @precondition(lambda self: self.sessions)
    @rule(i=st.integers(0, 99), rotated=st.booleans())
    def logout(self, i: int, rotated: bool) -> None:
        STATS["steps"] += 1
        session = self.sessions[i % len(self.sessions)]
        token = session.old_refresh[0] if rotated and session.old_refresh else session.refresh
        assert self.client.post("/v1/auth/logout", {"refresh_token": token}).status == 204
        if session.live:
            self._kill(session)

    @precondition(lambda self: self.dead_access or self.dead_refresh)
    @rule(i=st.integers(0, 10**6))
    def dead_tokens_stay_dead(self, i: int) -> None:
        STATS["steps"] += 1
        if self.dead_access:
            self._refused_access(self.dead_access[i % len(self.dead_access)])
        if self.dead_refresh:
            self._refused_refresh(self.dead_refresh[i % len(self.dead_refresh)])

    # ------------------------------------------------------------ e-mail change
    @precondition(lambda self: self._active())
    @rule(i=st.integers(0, 9), e=st.integers(0, 3))
    def request_email_change(self, i: int, e: int) -> None:
        h = self._pick(self._active(), i)
        account, new = self.accounts[h], EMAILS[e]
        if new == account.email:
            return
        if not self._budget("email_change", account.account_id, 9):
            return
        token = self._access_for(h)
        self._mails()
        reply = self.client.post(
            "/v1/account/email", {"new_email": new, "current_password": account.password}, token=token
        )
        assert reply.status == 202, reply.text
        assert reply.json()["pending_email"] == new
        mails = self._mails()
        owner = self._owner(new)
        taken = owner is not None and owner != h and self.accounts[owner].holds_email(self.now)
        link = self._link(mails, new, "confirm-email")
        assert (link is None) == taken
        account.change = (new, link, self.now)

    @precondition(lambda self: any(a.change and a.change[1] for a in self.accounts.values()))
    @rule(i=st.integers(0, 9))
    def confirm_email_change(self, i: int) -> None:
        h = self._pick(sorted(h for h, a in self.accounts.items() if a.change and a.change[1]), i)
        account = self.accounts[h]
        assert account.change is not None and account.change[1] is not None
        new, link, requested_at = account.change
        token = self._access_for(h)
        reply = self.client.post("/v1/account/email/confirm", {"token": link}, token=token)
        owner = self._owner(new)
        if self.now - requested_at >= DAY:
            assert reply.status == 400 and reply.json()["code"] == "token_expired", reply.text
            account.change = None
            return
        if owner is not None and owner != h and self.accounts[owner].holds_email(self.now):
            assert reply.status == 409 and reply.json()["code"] == "email_taken", reply.text
            return
        assert reply.status == 200, reply.text
        assert reply.json()["email"] == new and reply.json()["pending_email"] is None
        if owner is not None and owner != h:  # an expired pending account released it
            del self.accounts[owner]
        account.email, account.change = new, None
        account.reset = None  # an e-mail change voids every outstanding reset link (security revision 4)

    # ------------------------------------------------------------ passwords, deletion
    @precondition(lambda self: self._active())
    @rule(i=st.integers(0, 9), p=st.integers(0, 2))
    def change_password(self, i: int, p: int) -> None:
        h = self._pick(self._active(), i)
        account = self.accounts[h]
        if PASSWORDS[p] == account.password:
            return
        token = self._access_for(h)
        reply = self.client.put(
            "/v1/account/password",
            {
                "current_password": account.password,
                "new_password": PASSWORDS[p],
                "new_password_confirmation": PASSWORDS[p],
            },
            token=token,
        )
        assert reply.status == 200, reply.text
        account.password = PASSWORDS[p]
        account.reset = account.change = None  # outstanding reset and confirm-email links are voided
        self._kill_all(h)  # every earlier token, the caller's own included
        self._open_session(h, reply.json())

    @precondition(lambda self: self._active())
    @rule(i=st.integers(0, 9))
    def forgot_password(self, i: int) -> None:
        account = self.accounts[self._pick(self._active(), i)]
        if not self._budget("forgot", account.email, 5):
            return
        self._mails()
        assert self.client.post("/v1/auth/password/forgot", {"email": account.email}).status == 202
        link = self._link(self._mails(), account.email, "reset-password")
        assert link
        account.reset = (link, self.now)

    @precondition(lambda self: any(a.reset for a in self.accounts.values()))
    @rule(i=st.integers(0, 9), p=st.integers(0, 2))
    def reset_password(self, i: int, p: int) -> None:
        h = self._pick(sorted(h for h, a in self.accounts.items() if a.reset), i)
        account = self.accounts[h]
        assert account.reset is not None
        link, sent_at = account.reset
        password = PASSWORDS[p]
        reply = self.client.post(
            "/v1/auth/password/reset", {"token": link, "password": password, "password_confirmation": password}
        )
        account.reset = None
        if self.now - sent_at >= HOUR:
            assert reply.status == 400 and reply.json()["code"] == "token_expired", reply.text
            return
        assert reply.status == 204, reply.text
        account.password = password
        account.change = None  # a reset voids the confirm-email link too
        self._kill_all(h)

    @precondition(lambda self: self._active())
    @rule(i=st.integers(0, 9))
    def delete_account(self, i: int) -> None:
        h = self._pick(self._active(), i)
        account = self.accounts[h]
        token = self._access_for(h)
        reply = self.client.delete("/v1/account", {"current_password": account.password}, token=token)
        assert reply.status == 204, reply.text
        self._remove_account(h)

    # ------------------------------------------------------------ time
    @precondition(lambda self: self.now < 60 * DAY)
    @rule(delta=st.sampled_from([20 * MINUTE, 2 * HOUR, 25 * HOUR, 8 * DAY]))
    def time_passes(self, delta: int) -> None:
        STATS["steps"] += 1
        self.now += delta
        clock.set_offset(self.now)
        self.per_hour.clear()  # every fixed window of an hour has rolled over

    # ------------------------------------------------------------ payments
    @precondition(lambda self: self._active())
    @rule(i=st.integers(0, 9), amount=st.integers(100, 1_000_000))
    def pay(self, i: int, amount: int) -> None:
        h = self._pick(self._active(), i)
        token = self._access_for(h)
        reply = self.client.post(
            "/v1/payments", {"amount_cents": amount}, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        assert reply.status == 201, reply.text
        assert reply.json()["status"] == "created"
        self.payments.append(Payment(reply.json()["id"], self.holders[h].tenant_number, amount))

    @precondition(lambda self: self.payments)
    @rule(
        i=st.integers(0, 99),
        outcomes=st.lists(st.sampled_from(sorted(OUTCOMES)), min_size=1, max_size=5),
    )
    def gateway_notifies(self, i: int, outcomes: list[str]) -> None:
        """Copies of notifications about one payment, in a random order."""
        from urllib.parse import urlencode

        from tests.handlers.test_payments_support import genuine_notification

        STATS["steps"] += 1
        payment = self.payments[i % len(self.payments)]
        for outcome in outcomes:
            STATS["notifications"] += 1
            reply = self.client.request(
                "POST",
                "/v1/payments/notifications/sandbox",
                body=urlencode(genuine_notification(payment.payment_id, outcome)),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert reply.status == 200, reply.text
            new = OUTCOMES[outcome]
            if new is None:  # not final: nothing changes
                continue
            if new == "succeeded" or payment.status == "created":
                payment.status = new  # a genuine success wins over an earlier refusal; nothing beats it
        self._position_matches(payment.tenant_number)

    def _position_matches(self, tenant_number: str) -> None:
        """The tenancy's position counts each succeeded payment once, whatever the copies and
        their order (its balance, 0 on 2019-05-23, is older than every payment)."""
        from oph.payments.balance import get_balance

        paid = sum(
            p.amount_cents for p in self.payments if p.tenant_number == tenant_number and p.status == "succeeded"
        )
        position = get_balance(tenant_number)
        assert (position["balance_cents"], position["pending_cents"]) == (0, paid)
        assert position["amount_to_pay_cents"] == 0

    # ------------------------------------------------------------ invariants
    @invariant()
    def accounts_and_payments_match_the_model(self) -> None:
        items = scan(get_settings().tenants_table)
        stored = assert_accounts_consistent(items)
        emails = [a["email"] for a in stored.values()]
        assert len(emails) == len(set(emails)), "two accounts share an e-mail"
        holders = [a["holder_id"] for a in stored.values()]
        assert len(holders) == len(set(holders)), "two accounts for one holder"
        by_holder = {a["holder_id"]: (a["account_id"], a["email"], a["status"]) for a in stored.values()}
        expected = {self.holders[h].holder_id: (a.account_id, a.email, a.status) for h, a in self.accounts.items()}
        assert by_holder == expected
        if not self.payments:
            return
        status = {i["payment_id"]: i for i in items if str(i["sk"]).startswith("PAYMENT#")}
        paid_index = [i["payment_id"] for i in items if str(i["pk"]).startswith("PAYMENTS_PAID#")]
        self._mails()
        confirmations = [m["text"] for m in self.mail_log if m["subject"].startswith("Confirmation de votre paiement")]
        for payment in self.payments:
            record = status[payment.payment_id]
            assert record["status"] == payment.status, payment
            if payment.status == "succeeded":
                assert paid_index.count(payment.payment_id) == 1
                assert record.get("fulfilled_at")
                assert sum(payment.payment_id in text for text in confirmations) <= 1
            else:
                assert payment.payment_id not in paid_index


def _wipe() -> None:
    """Each example starts from empty tables (its own holders are created afterwards)."""
    db = oph_aws.dynamodb()
    for table in (get_settings().tenants_table, get_settings().tokens_table):
        keys = [{"pk": {"S": str(i["pk"])}, "sk": {"S": str(i["sk"])}} for i in scan(table)]
        for start in range(0, len(keys), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
            db.batch_write_item(RequestItems={table: batch})


def test_account_lifecycle_state_machine(client, runtime, outbox, clock_offset, capsys):
    Lifecycle.client = client
    before = dict(STATS)
    try:
        run_state_machine_as_test(Lifecycle, settings=PROFILE)
    finally:
        Lifecycle.client = None
        clock.set_offset(0)
    ran = {k: STATS[k] - before[k] for k in STATS}
    assert ran["steps"] > 0
    with capsys.disabled():
        print(f"\nlifecycle state machine: {ran}")  # the README quotes these figures
