"""Reading payments: the balance screen, the history and one payment (contract section 6)."""

from __future__ import annotations

from typing import Any

from oph.payments.model import TenancySnapshot, newest_first
from oph.payments.settlement import paid_after
from oph.payments.store import payment_store
from oph.platform.errors import NotFound


def balance_of(snapshot: TenancySnapshot) -> dict[str, Any]:
    """Imported balance, online payments made after it (``pending_cents``), latest notice."""
    balance_date = snapshot.balance_date
    latest = max(snapshot.notices, key=lambda d: (d.issued_on, d.period or ""), default=None)
    return {
        "balance_cents": snapshot.balance_cents or 0,
        "balance_date": balance_date,
        "pending_cents": paid_after(snapshot.payments, balance_date),
        "amount_due_cents": int(latest.amount_due_cents or 0) if latest else 0,
        "due_date": latest.due_date if latest else None,
    }


def get_balance(tenant_number: str) -> dict[str, Any]:
    """``GET /v1/payments/balance``: one read of the tenancy's partition."""
    return balance_of(payment_store().snapshot(tenant_number, for_balance=True))


def list_payments(tenant_number: str) -> dict[str, Any]:
    return {"items": [p.as_api() for p in newest_first(payment_store().for_tenancy(tenant_number))]}


def get_payment(tenant_number: str, payment_id: str) -> dict[str, Any]:
    payment = payment_store().get(tenant_number, payment_id)
    if payment is None:
        raise NotFound()
    return payment.as_api()
