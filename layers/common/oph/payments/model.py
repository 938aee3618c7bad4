"""Online rent payments ("payer en ligne"): the record, its statuses, and what a payment use
case reads of a tenancy. Pure values; the keys live in :mod:`oph.payments.store`.

Payments belong to the tenancy, not to the holder's account: the rent is the tenancy's, so
co-holders see the same history and the same ``pending_cents``; ``account_id`` records who
paid (that holder gets the confirmation e-mail), and ``Idempotency-Key`` values are scoped to
the account.

Status machine: ``created`` → ``succeeded`` | ``refused`` | ``abandoned`` | ``expired``, only
from a verified gateway notification (or the expiry job for ``expired``), with conditional
writes. ``succeeded`` never changes. A genuine success notification still wins over an earlier
``refused``/``abandoned``/``expired`` (a later attempt in the same payment session, or a
notification delayed past the expiry): the card was debited, so the payment must be counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oph.documents.model import NOTICE, Document
from oph.payments import systempay
from oph.platform.errors import ApiError
from oph.tenancy.model import Holder, Movement, Tenancy

CREATED = "created"
SUCCEEDED = systempay.SUCCEEDED
REFUSED = systempay.REFUSED
ABANDONED = systempay.ABANDONED
EXPIRED = systempay.EXPIRED

MIN_AMOUNT_CENTS = 100
MAX_AMOUNT_CENTS = 1_000_000
MAX_ID_LENGTH = 64


class NotificationRejected(ApiError):
    """A notification that is forged, tampered with, misdirected or malformed: nothing changes."""

    status, code, title = 400, "notification_rejected", "Notification de paiement refusée."


class IdempotencyKeyUsed(Exception):
    """The ``Idempotency-Key`` already holds a live answer: replay it instead of creating."""


class AlreadySucceeded(Exception):
    """The payment is already ``succeeded`` (or gone): the notification changes nothing."""


@dataclass(frozen=True, kw_only=True)
class Payment:
    """One online payment. Read from the day indexes (export) or the tenancy's partition
    (balance, receipts), only the fields those carry are filled."""

    payment_id: str
    amount_cents: int
    status: str
    paid_at: str | None = None  # instant YYYY-MM-DDTHH:MM:SSZ, set with ``succeeded``
    created_at: str = ""
    tenant_number: str = ""
    account_id: str = ""  # who paid
    provider: str = ""  # the gateway adapter's name
    site_id: str = ""
    ctx_mode: str = ""
    trans_id: str = ""
    trans_date: str = ""
    settled_at: str | None = None
    trans_status: str | None = None
    trans_uuid: str | None = None
    receipt_doc_id: str | None = None
    fulfilled_at: str | None = None

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.payment_id,
            "amount_cents": self.amount_cents,
            "status": self.status,
            "created_at": self.created_at,
            "paid_at": self.paid_at,
        }


def is_valid_payment_id(payment_id: str) -> bool:
    """Ids are ASCII letters and digits (a uuid4 hex): anything else is simply not found."""
    return bool(payment_id) and len(payment_id) <= MAX_ID_LENGTH and payment_id.isascii() and payment_id.isalnum()


def newest_first(payments: list[Payment]) -> list[Payment]:
    return sorted(payments, key=lambda p: (p.created_at, p.payment_id), reverse=True)


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first answer to a ``POST /v1/payments`` under one key, kept until ``valid_until``."""

    request_hash: str
    payment_id: str
    answer: dict[str, Any]
    valid_until: int  # epoch seconds


@dataclass
class TenancySnapshot:
    """A tenancy's partition read at once: its record (with the imported balance), holders,
    documents, online payments and account movements. What the tenant owes is read from it
    by :func:`oph.payments.position.position`, and only there."""

    tenant_number: str
    tenancy: Tenancy | None = None
    holders: list[Holder] = field(default_factory=list)
    documents: dict[str, Document] = field(default_factory=dict)  # by doc id
    payments: list[Payment] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)

    @property
    def notices(self) -> list[Document]:
        return [d for d in self.documents.values() if d.type == NOTICE]
