"""The reference of an online payment a tenant can read out on the phone (pure).

A payment's id is 32 hexadecimal characters: right for the API and the office's export, unusable
on the phone. The reference printed on the reçu de paiement and in the confirmation e-mail is
``<tenant number>-<YYYYMMDD>-<transaction number>`` ("123456-20190528-000001"): the tenant
number, the day of the transaction as sent to the gateway (``vads_trans_date``, UTC) and the
gateway's transaction number (``vads_trans_id``). The gateway keeps that number unique per shop
and per UTC day, so the reference is unique, and the office finds the payment from it in the
gateway's back office as well as in its own export.
"""

from __future__ import annotations

from oph.payments.model import Payment
from oph.tenancy.model import normalize_tenant_number


def reference_of(tenant_number: str, trans_date: str, trans_id: str) -> str:
    """``("123456", "20190528120500", "000001")`` -> ``"123456-20190528-000001"``."""
    parts = [normalize_tenant_number(tenant_number), trans_date[:8], trans_id]
    return "-".join(part for part in parts if part)


def payment_reference(payment: Payment) -> str:
    """The reference of ``payment`` a tenant can read out on the phone."""
    return reference_of(payment.tenant_number, payment.trans_date, payment.trans_id)
