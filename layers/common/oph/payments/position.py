"""The tenancy's position: every figure a tenant sees of what they owe, from one function.

:func:`position` reads a :class:`~oph.payments.model.TenancySnapshot` (one query of the
tenancy's partition) and gives the balance screen (contract section 6), the statement's
entries (section 8) and the paid state of every notice (section 5, "What is paid", through
:func:`oph.payments.settlement.settle`). :mod:`oph.payments.balance`,
:mod:`oph.payments.statement` and :mod:`oph.payments.receipts` read it; none of them computes
a figure of its own.

The rules, and the decisions where the contract is silent:

- **Balance.** When the tenancy has account movements (section 8), the balance is their sum
  and its date the latest movement's date; the imported balance columns no longer count.
  Otherwise it is the latest imported balance (tenants or notices file, the later date wins),
  or 0 without a date when none was ever imported.
- **Reconciliation.** An online payment whose id is the ``reference`` of a movement is
  reconciled: it is in the balance through that movement, never pending, never counted twice.
- **Pending payments** are the succeeded online payments not reconciled that the balance does
  not include yet:

  - with an imported balance, those made after the balance date (their Paris date later than
    it; one made on the balance date itself is taken as already in it);
  - with movements, *every* unreconciled one made on or after the first movement's date —
    including one made on or before the latest movement's date. The balance is exactly the
    sum of the movements, and a payment is only in it once the bank has paid it out and the
    office has exported it with the payment's id: until then it is pending, so that a tenant
    is never asked to pay twice. A payment made before the first movement (the history starts
    with a carried-forward line, "Report à nouveau") is taken as included in that line, which
    is the balance of that day: it can never be reconciled, and counting it forever would
    credit the tenant twice.

- **Net à payer** (``amount_to_pay_cents``): the balance, plus every notice issued after the
  balance date, minus the pending payments, never below 0. It equals what the settlement says
  is still owed (older debt plus each notice's unpaid part).
- **Latest notice** (``amount_due_cents``, ``due_date``): the one issued last (0 and null
  without notices).
- **Entries** (the statement's lines, oldest first): the movements by date, then by their
  reference in natural order (the management software numbers them as it records them),
  followed on each day by that day's pending online payments in the order they were paid
  ("Paiement en ligne", dated by their Paris payment date, reference = the payment id).
  Without movements, the imported balance is one entry ("Solde au <DD/MM/YYYY>", reference
  "") followed by the pending payments. The entries always add up to ``balance_cents −
  pending_cents``.

``today`` (the Paris day the position is read) is kept as ``as_of``: every known notice,
movement and payment counts whatever its date, so a notice imported before its issue date is
already in the net à payer, as on the paper notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from oph.payments.model import SUCCEEDED, Payment, TenancySnapshot
from oph.payments.settlement import Settled, Settlement, is_after, notice_amount, oldest_first, settle
from oph.platform.clock import paris_date
from oph.platform.french import date_fr
from oph.tenancy.model import Movement

OFFICE, ONLINE = "office", "online"
ONLINE_LABEL = "Paiement en ligne"


@dataclass(frozen=True)
class Entry:
    """One line of the tenant's account as the statement shows it."""

    date: str  # YYYY-MM-DD (a payment's Paris date)
    label: str
    amount_cents: int  # positive: owed; negative: settles
    source: str  # office | online
    reference: str


@dataclass(frozen=True)
class Position:
    as_of: str
    balance_cents: int
    balance_date: str | None
    from_movements: bool
    pending: tuple[Payment, ...]  # in the order they were paid
    reconciled: frozenset[str]  # ids of the online payments a movement references
    amount_due_cents: int
    due_date: str | None
    amount_to_pay_cents: int
    settled: Settled
    entries: tuple[Entry, ...]

    @property
    def pending_cents(self) -> int:
        return sum(p.amount_cents for p in self.pending)

    @property
    def settlements(self) -> dict[str, Settlement]:
        """Every notice's paid state, by period."""
        return self.settled.notices

    @property
    def older_debt_cents(self) -> int:
        """Still owed of the debt older than every known notice."""
        return self.settled.older_debt_cents

    def as_balance(self) -> dict[str, Any]:
        """``GET /v1/payments/balance`` (contract section 6)."""
        return {
            "balance_cents": self.balance_cents,
            "balance_date": self.balance_date,
            "pending_cents": self.pending_cents,
            "amount_due_cents": self.amount_due_cents,
            "due_date": self.due_date,
            "amount_to_pay_cents": self.amount_to_pay_cents,
        }


def _natural(reference: str) -> tuple[tuple[int, int, str], ...]:
    """Digits compare as numbers (M-9 before M-10), without converting them: by length, then
    as text, once their leading zeros are dropped."""
    return tuple(
        (0, len(part.lstrip("0")), part.lstrip("0")) if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", reference)
    )


def account_order(movements: list[Movement]) -> list[Movement]:
    return sorted(movements, key=lambda m: (m.date, _natural(m.reference), m.reference))


def _pending(
    payments: list[Payment], reconciled: frozenset[str], *, after: str | None, since: str | None
) -> tuple[Payment, ...]:
    """The succeeded, unreconciled payments whose Paris date is after ``after`` (imported
    balance) or on or after ``since`` (first movement), in the order they were paid."""
    found = []
    for payment in payments:
        if payment.status != SUCCEEDED or not payment.paid_at or payment.payment_id in reconciled:
            continue
        day = paris_date(payment.paid_at)
        if (after is None or day > after) and (since is None or day >= since):
            found.append(payment)
    # In the order paid; within one second, in the order created (the per-day transaction counter).
    return tuple(sorted(found, key=lambda p: (str(p.paid_at), p.created_at, p.trans_date, p.trans_id, p.payment_id)))


def _entries(office: list[Entry], pending: tuple[Payment, ...]) -> tuple[Entry, ...]:
    online = [Entry(paris_date(str(p.paid_at)), ONLINE_LABEL, -p.amount_cents, ONLINE, p.payment_id) for p in pending]
    # A stable sort by date keeps each day's office lines first, then its payments in order.
    return tuple(sorted([*office, *online], key=lambda e: e.date))


def _imported_balance(snapshot: TenancySnapshot) -> tuple[int, str | None]:
    """The latest imported balance and its date; (0, None) when none was ever imported (a
    balance without a date cannot be placed, and is taken as none)."""
    tenancy = snapshot.tenancy
    if tenancy is None or tenancy.balance_cents is None or not tenancy.balance_date:
        return 0, None
    return tenancy.balance_cents, tenancy.balance_date


def position(snapshot: TenancySnapshot, *, today: str) -> Position:
    """The tenancy's position (see the module's docstring for every rule)."""
    movements = account_order(snapshot.movements)
    payment_ids = {p.payment_id for p in snapshot.payments}
    reconciled = frozenset(m.reference for m in movements if m.reference in payment_ids)
    office: list[Entry]
    balance_date: str | None
    if movements:
        balance, balance_date = sum(m.amount_cents for m in movements), movements[-1].date
        pending = _pending(snapshot.payments, reconciled, after=None, since=movements[0].date)
        office = [Entry(m.date, m.label, m.amount_cents, OFFICE, m.reference) for m in movements]
    else:
        balance, balance_date = _imported_balance(snapshot)
        pending = _pending(snapshot.payments, reconciled, after=balance_date, since=None)
        office = [Entry(balance_date, f"Solde au {date_fr(balance_date)}", balance, OFFICE, "")] if balance_date else []
    notices = oldest_first(snapshot.notices)
    pending_cents = sum(p.amount_cents for p in pending)
    later_notices = sum(notice_amount(n) for n in notices if is_after(n, balance_date))
    latest = max(notices, key=lambda d: (d.issued_on, d.period or ""), default=None)
    return Position(
        as_of=today,
        balance_cents=balance,
        balance_date=balance_date,
        from_movements=bool(movements),
        pending=pending,
        reconciled=reconciled,
        amount_due_cents=notice_amount(latest) if latest else 0,
        due_date=latest.due_date if latest else None,
        amount_to_pay_cents=max(0, balance + later_notices - pending_cents),
        settled=settle(notices, balance_cents=balance, balance_date=balance_date, credits_cents=pending_cents),
        entries=_entries(office, pending),
    )
