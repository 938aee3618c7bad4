"""Reading payments: the balance screen, the history and one payment (contract section 6)."""

from __future__ import annotations

from typing import Any

from oph.payments.model import newest_first
from oph.payments.position import position
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.errors import NotFound


def get_balance(tenant_number: str) -> dict[str, Any]:
    """``GET /v1/payments/balance``: one read of the tenancy's partition, every figure from
    :func:`oph.payments.position.position`."""
    snapshot = payment_store().snapshot(tenant_number, for_balance=True)
    return position(snapshot, today=clock.paris_today()).as_balance()


def list_payments(tenant_number: str) -> dict[str, Any]:
    """``GET /v1/payments``: one Query projected on what the list shows."""
    return {"items": [p.as_api() for p in newest_first(payment_store().history(tenant_number))]}


def get_payment(tenant_number: str, payment_id: str) -> dict[str, Any]:
    payment = payment_store().get(tenant_number, payment_id)
    if payment is None:
        raise NotFound()
    return payment.as_api()
