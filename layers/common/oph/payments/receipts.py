"""Quittances and reçus on demand (``POST /v1/documents/receipts``, contract section 5).

A *quittance* (rent receipt, loi du 6 juillet 1989, art. 21) acknowledges that a period is
fully paid and shows rent and charges separately; a *reçu* acknowledges a partial payment and
shows the amounts actually paid. What is paid is the position's settlement, oldest debt first
(:func:`oph.payments.position.position`): no quittance is made while older rent is owed.
Quittances made under an earlier rule stay listed (they are documents); asking again gives
the same document only while the current rule still says the period is paid.

Receipt ids are derived from (tenancy, period, kind, amount): asking again in the same state
returns the same document (200); once the period is fully paid a quittance is made (201), the
earlier reçu stays listed. A partial payment that grew makes a new reçu showing the new amount.
"""

from __future__ import annotations

import uuid

from oph.accounts.model import Account
from oph.documents.model import RECEIPT, Document, tenant_prefix
from oph.documents.store import document_store
from oph.payments.mails import quittance_email
from oph.payments.model import TenancySnapshot
from oph.payments.position import Position, position
from oph.payments.quittance_pdf import QUITTANCE, RECU, render_quittance
from oph.payments.settlement import PAID, UNPAID, Settlement
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.errors import NotFound, ValidationFailed
from oph.platform.french import period_label
from oph.platform.mail import get_mailer
from oph.platform.observability import count, get_logger
from oph.tenancy.store import tenancy_pk

_NAMESPACE = uuid.UUID("0d3c7b52-9a51-4a8e-8d4c-6e2f7c1b5a90")


def receipt_doc_id(tenant_number: str, period: str, kind: str, amount_cents: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"receipt|{tenancy_pk(tenant_number)}|{period}|{kind}|{amount_cents}"))


def kind_of(settlement: Settlement) -> str:
    return QUITTANCE if settlement.state == PAID else RECU


def receipt_title(kind: str, period: str) -> str:
    label = period_label(period)
    return f"Quittance de loyer — {label}" if kind == QUITTANCE else f"Reçu — {label}"


PAID_OLDER_DEBT = (
    "Vos paiements ont d'abord réglé des sommes dues plus anciennes : cette période n'est pas encore payée."
)


def settlement_of(state: Position, period: str) -> Settlement:
    """The period's paid state (404 without a notice, 422 ``period_unpaid`` if nothing of it
    is paid — saying so when the tenant's credits went to older debt)."""
    settlement = state.settlements.get(period)
    if settlement is None:
        raise NotFound("Aucun avis d'échéance pour cette période.")
    if settlement.state == UNPAID:
        credited = state.pending_cents > 0 or state.balance_cents < 0
        raise ValidationFailed.single("period", "period_unpaid", PAID_OLDER_DEBT if credited else None)
    return settlement


def receipt_document(snapshot: TenancySnapshot, period: str, settlement: Settlement) -> Document:
    """The quittance (fully paid) or reçu (partially paid) of the period, issued today."""
    kind = kind_of(settlement)
    amount = settlement.due_cents if kind == QUITTANCE else settlement.paid_cents
    doc_id = receipt_doc_id(snapshot.tenant_number, period, kind, amount)
    number = (snapshot.tenancy.tenant_number if snapshot.tenancy else "") or snapshot.tenant_number
    return Document(
        doc_id=doc_id,
        tenant_number=number,
        type=RECEIPT,
        title=receipt_title(kind, period),
        issued_on=clock.paris_today(),
        s3_key=f"{tenant_prefix(number)}receipts/{kind}-{period}-{doc_id[:8]}.pdf",
        filename=f"{'quittance' if kind == QUITTANCE else 'recu'}-{period}.pdf",
        period=period,
        amount_cents=amount,
        created_at=clock.iso_instant(),
        extra={
            "kind": kind,
            "notice_id": settlement.notice.doc_id,
            "due_cents": settlement.due_cents,
            "paid_cents": settlement.paid_cents,
        },
    )


def create_receipt(tenant_number: str, period: str, account: Account | None = None) -> tuple[Document, bool]:
    """The quittance (fully paid) or reçu (partially paid) of a period; (document, created)."""
    snapshot = payment_store().snapshot(tenant_number)
    settlement = settlement_of(position(snapshot, today=clock.paris_today()), period)
    document = receipt_document(snapshot, period, settlement)
    existing = snapshot.documents.get(document.doc_id)
    if existing is not None:
        return existing, False
    pdf = render_quittance(document, settlement, snapshot)
    documents = document_store()
    documents.put_pdf(document, pdf)
    if not documents.put(document, only_if_new=True):  # asked twice at the same time
        return documents.get(tenant_number, document.doc_id) or document, False
    kind = kind_of(settlement)
    count("QuittancesCreated" if kind == QUITTANCE else "RecusCreated")
    if kind == QUITTANCE and account is not None and account.wants("receipts_by_email"):
        _email_quittance(document, pdf, account)
    return document, True


def _email_quittance(document: Document, pdf: bytes, account: Account) -> None:
    email = quittance_email(document, pdf, account)
    try:
        get_mailer().send(email)
        count("QuittanceEmailsSent")
    except Exception as exc:  # the quittance exists and is listed; the e-mail is a convenience
        get_logger().warning("quittance e-mail not sent", extra={"error": type(exc).__name__})
