"""Documents of a tenancy listed in "Mes documents" (contract section 5): avis d'échéance
(``notice``), quittances and reçus (``receipt``), reçus de paiement (``payment_receipt``),
relevés de compte (``statement``, section 8) and SEPA direct-debit mandates (``mandate``).

Stored by :mod:`oph.documents.store` (one index item per document in the tenancy's
partition); the PDF lives in the documents bucket under ``tenants/<tenant number>/`` (the
tenant's own prefix: a download URL is only ever signed for a key under the caller's
prefix). Co-holders share their tenancy's documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oph.tenancy.model import normalize_tenant_number

NOTICE = "notice"
RECEIPT = "receipt"
PAYMENT_RECEIPT = "payment_receipt"
STATEMENT = "statement"
MANDATE = "mandate"
TYPES = (NOTICE, RECEIPT, PAYMENT_RECEIPT, STATEMENT, MANDATE)


def tenant_prefix(tenant_number: str) -> str:
    return f"tenants/{normalize_tenant_number(tenant_number)}/"


@dataclass
class Document:
    doc_id: str
    tenant_number: str
    type: str  # one of TYPES
    title: str
    issued_on: str  # YYYY-MM-DD
    s3_key: str  # always under tenant_prefix(tenant_number)
    filename: str
    period: str | None = None  # YYYY-MM; None for a payment_receipt, a statement, a mandate
    due_date: str | None = None  # notices
    amount_due_cents: int | None = None  # notices
    amount_cents: int | None = None  # receipts and payment receipts
    created_at: str = ""
    extra: dict[str, Any] | None = None  # type-specific details (lines, payment id, kind, range...)
    rendered_at: str | None = None  # notices: when the worker stored the PDF (None: not yet)

    def under_prefix_of(self, tenant_number: str) -> bool:
        """Is the PDF stored under this tenant's own prefix (the only keys ever signed)?"""
        return self.s3_key.startswith(tenant_prefix(tenant_number))

    def as_api(self) -> dict[str, Any]:
        """The item of ``GET /v1/documents`` (contract section 5)."""
        body: dict[str, Any] = {
            "id": self.doc_id,
            "type": self.type,
            "title": self.title,
            "issued_on": self.issued_on,
            "period": self.period,
        }
        if self.type == NOTICE:
            body["due_date"] = self.due_date
            body["amount_due_cents"] = self.amount_due_cents
        elif self.type in (RECEIPT, PAYMENT_RECEIPT):
            body["amount_cents"] = self.amount_cents
        return body


def sort_newest_first(documents: list[Document]) -> list[Document]:
    """Newest first by ``issued_on``, then by period (contract section 5)."""
    return sorted(documents, key=lambda d: (d.issued_on, d.period or ""), reverse=True)


def net_to_pay(document: Document) -> int:
    """The "Net à payer" of an avis d'échéance, in cents (contract section 5), never below 0.

    The balance printed on the notice ("Solde au <date>"), plus the notice's total when that
    balance is dated before the issue date (a balance dated on or after it already includes
    the notice); a credit leaves 0 to pay. A notice without a known balance asks for its own
    total. The one rule behind the notice's PDF and its "available" e-mail.
    """
    extra = document.extra or {}
    total = int(document.amount_due_cents or 0)
    balance, balance_date = extra.get("balance_cents"), extra.get("balance_date")
    if balance is None or not balance_date:
        return max(total, 0)
    net = int(balance) + (total if str(balance_date) < document.issued_on else 0)
    return max(net, 0)
