"""What is paid — oldest debt first (contract section 5, Code civil art. 1342-10), on plain values.

No quittance may be issued while older rent is still owed: a quittance for a month makes the
earlier months presumed paid. So the debt is laid out oldest first and every credit pays it in
that order:

1. A positive balance at its date is owed by the notices issued on or before that date, the
   most recent ones first (the older notices are settled); whatever part the known notices do
   not explain is *older debt*, the oldest of all. A zero or negative balance settles every
   notice issued on or before its date.
2. Then the notices issued after the balance date, oldest first (in full: the balance does not
   include them yet).
3. The credits pay that debt oldest first: a balance in credit (negative) first, then the
   pending online payments (:mod:`oph.payments.position`) in the order they were paid. Which
   credit pays which debt does not change what is left, so they come here as one sum.

A notice is *paid* when none of it is still owed, *partial* when part of it is, *unpaid* when
all of it is. A notice whose total is negative (aid above the rent: a credit note, rare) owes
nothing; issued after the balance date it is a credit like the others. A notice asking nothing
(the aid covers it all) is paid only once everything older is: its quittance would otherwise
make older unpaid months presumed paid; until then it is unpaid (nothing paid of nothing
asked). So no notice is ever paid while older debt, or an older notice, is still owed; and
for every input,
``older_debt_cents + Σ owed_cents == max(0, balance + Σ notices after the balance date −
credits)``: what the settlement says is still owed is the position's net à payer.

Only :func:`oph.payments.position.position` calls :func:`settle`; everything else reads the
position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oph.documents.model import Document

PAID, PARTIAL, UNPAID = "paid", "partial", "unpaid"


@dataclass(frozen=True)
class Settlement:
    """One notice's paid state: ``due_cents`` is what it asks (never below 0), ``paid_cents``
    how much of it is settled."""

    notice: Document
    due_cents: int
    paid_cents: int
    state: str  # paid | partial | unpaid

    @property
    def owed_cents(self) -> int:
        return self.due_cents - self.paid_cents


@dataclass(frozen=True)
class Settled:
    """Every notice's settlement (by period) and the older debt still owed."""

    notices: dict[str, Settlement]
    older_debt_cents: int

    @property
    def owed_cents(self) -> int:
        """Everything still owed: the older debt and each notice's unpaid part."""
        return self.older_debt_cents + sum(s.owed_cents for s in self.notices.values())


def notice_amount(notice: Document) -> int:
    """What a notice asks, as imported (aid lines already deducted; may be negative)."""
    return int(notice.amount_due_cents or 0)


def oldest_first(notices: Iterable[Document]) -> list[Document]:
    return sorted(notices, key=lambda d: (d.issued_on, d.period or "", d.doc_id))


def is_after(notice: Document, balance_date: str | None) -> bool:
    """Is this notice not yet in the balance dated ``balance_date``? (A balance dated on or
    after the issue date already includes it; without a balance date, none is.)"""
    return balance_date is None or notice.issued_on > balance_date


def _debts(notices: list[Document], balance_cents: int, balance_date: str | None) -> tuple[int, list[int], int]:
    """(older debt, what each notice owes before any credit — oldest first, credit notes)."""
    owed = [0] * len(notices)
    remaining = max(balance_cents, 0)
    for index in reversed(range(len(notices))):  # the most recent first take up the balance
        if not is_after(notices[index], balance_date):
            owed[index] = min(max(notice_amount(notices[index]), 0), remaining)
            remaining -= owed[index]
    credit_notes = 0
    for index, notice in enumerate(notices):
        if is_after(notice, balance_date):
            owed[index] = max(notice_amount(notice), 0)
            credit_notes += max(-notice_amount(notice), 0)
    return remaining, owed, credit_notes


def settle(notices: Iterable[Document], *, balance_cents: int, balance_date: str | None, credits_cents: int) -> Settled:
    """Lay the debt out oldest first and pay it with the credits (``credits_cents``: the
    pending online payments; a negative balance is added here)."""
    ordered = oldest_first(notices)
    older, owed, credit_notes = _debts(ordered, balance_cents, balance_date)
    credit = max(-balance_cents, 0) + credits_cents + credit_notes
    paid_older = min(credit, older)
    credit -= paid_older
    behind = older > paid_older  # something older is still owed
    result: dict[str, Settlement] = {}
    for notice, debt in zip(ordered, owed, strict=True):
        due = max(notice_amount(notice), 0)
        settled_now = min(credit, debt)
        credit -= settled_now
        still = debt - settled_now
        if due == 0:  # nothing to pay, but paid only once everything older is
            state = UNPAID if behind else PAID
        else:
            state = PAID if still == 0 else UNPAID if still == due else PARTIAL
        behind = behind or still > 0
        result[str(notice.period)] = Settlement(notice, due, due - still, state)
    return Settled(result, older - paid_older)
