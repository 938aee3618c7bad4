"""What is paid (contract section 5, "What is paid", as implemented today), on plain values.

The notices of a tenancy are settled oldest first. A notice is fully paid when the latest
imported balance, dated on or after the notice's issue date, is zero or in credit. Otherwise
the succeeded online payments made after that balance date (:func:`paid_after`) are allocated
to the other notices, oldest first: fully paid when the allocation reaches the amount due,
partially paid when it is above zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oph.documents.model import Document
from oph.payments.model import SUCCEEDED, Payment
from oph.platform.clock import paris_date

PAID, PARTIAL, UNPAID = "paid", "partial", "unpaid"


@dataclass(frozen=True)
class Settlement:
    notice: Document
    due_cents: int
    paid_cents: int
    state: str  # paid | partial | unpaid
    by_balance: bool = False


def counts_after(payment: Payment, balance_date: str | None) -> bool:
    """Is this payment money the balance dated ``balance_date`` does not include yet?

    Only succeeded payments count (a succeeded payment always has its ``paid_at``). One made
    on the balance date itself is taken as already in the balance; dates are compared in
    Paris time (contract section 1). Without a balance date, every succeeded payment counts.
    """
    if payment.status != SUCCEEDED or not payment.paid_at:
        return False
    return balance_date is None or paris_date(payment.paid_at) > balance_date


def paid_after(payments: Iterable[Payment], balance_date: str | None) -> int:
    """Cents paid online after the balance date: the balance's ``pending_cents`` and the pool
    the notices are settled from."""
    return sum(p.amount_cents for p in payments if counts_after(p, balance_date))


def settle(
    notices: list[Document], balance_cents: int | None, balance_date: str | None, payments: list[Payment]
) -> dict[str, Settlement]:
    """The paid state of every notice, by period."""
    pool = paid_after(payments, balance_date)
    result: dict[str, Settlement] = {}
    for notice in sorted(notices, key=lambda d: (d.issued_on, d.period or "")):
        due = max(0, int(notice.amount_due_cents or 0))
        if (
            balance_date is not None
            and balance_cents is not None
            and balance_date >= notice.issued_on
            and balance_cents <= 0
        ):
            result[str(notice.period)] = Settlement(notice, due, due, PAID, by_balance=True)
            continue
        allocated = min(pool, due)
        pool -= allocated
        state = PAID if allocated >= due else PARTIAL if allocated > 0 else UNPAID
        result[str(notice.period)] = Settlement(notice, due, allocated, state)
    return result
