"""What follows a success, once per payment: the "reçu de paiement" (listed in "Mes
documents" as a ``payment_receipt``) and the confirmation e-mail it is attached to.

A lease (a conditional write on the payment) elects one worker among concurrent duplicates
of the success notification (10 concurrent copies send one e-mail); a failure releases it so
the gateway's retry completes the work. The lease goes stale after two minutes, in case its
holder died without releasing it.
"""

from __future__ import annotations

from oph.accounts.account_store import account_store
from oph.accounts.model import Account
from oph.documents.model import PAYMENT_RECEIPT, Document, tenant_prefix
from oph.documents.store import document_store
from oph.payments.mails import confirmation_email
from oph.payments.model import SUCCEEDED, Payment
from oph.payments.receipt_pdf import ReceiptDetails, render_receipt
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.french import date_long_fr, euros, time_fr
from oph.platform.mail import get_mailer
from oph.platform.observability import count
from oph.tenancy.model import Tenancy
from oph.tenancy.store import tenancy_store

FULFILMENT_LEASE_SECONDS = 120


def receipt_doc_id(payment_id: str) -> str:
    return f"payment-{payment_id}"


def receipt_filename(payment_id: str) -> str:
    return f"recu-paiement-{payment_id}.pdf"


def fulfil(tenant_number: str, payment_id: str) -> None:
    """Store the "reçu de paiement" and e-mail it, once per succeeded payment."""
    store = payment_store()
    payment = store.get(tenant_number, payment_id)
    if payment is None or payment.status != SUCCEEDED or payment.fulfilled_at:
        return
    if not store.claim_fulfilment(payment, now_ts=int(clock.now_ts()), lease_seconds=FULFILMENT_LEASE_SECONDS):
        return  # someone else is on it, or it is done
    try:
        payment = store.get(tenant_number, payment_id) or payment
        _store_receipt_and_mail(payment)
    except Exception:
        store.release_fulfilment(payment)
        raise


def holder_name(account: Account | None) -> str:
    return f"{account.first_name} {account.last_name}".strip() if account else ""


def receipt_details(payment: Payment, account: Account | None, tenancy: Tenancy | None) -> ReceiptDetails:
    assert payment.paid_at is not None
    paid = clock.paris_moment(payment.paid_at)
    return ReceiptDetails(
        payment_id=payment.payment_id,
        tenant_number=payment.tenant_number,
        holder_name=holder_name(account),
        address_lines=[tenancy.address_line1, f"{tenancy.postal_code} {tenancy.city}".strip()] if tenancy else [],
        contract_number=tenancy.contract_number if tenancy else "",
        amount=euros(payment.amount_cents),
        paid_on=paid.strftime("%d/%m/%Y"),
        paid_time=time_fr(payment.paid_at),
        trans_id=payment.trans_id,
        trans_date=payment.trans_date,
        issued_on=date_long_fr(paid.date().isoformat()),
        trans_uuid=payment.trans_uuid or "",
    )


def receipt_document(payment: Payment) -> Document:
    """The ``payment_receipt`` listed in "Mes documents" (issued on the Paris day of payment)."""
    assert payment.paid_at is not None
    filename = receipt_filename(payment.payment_id)
    return Document(
        doc_id=receipt_doc_id(payment.payment_id),
        tenant_number=payment.tenant_number,
        type=PAYMENT_RECEIPT,
        title=f"Reçu de paiement — {euros(payment.amount_cents)}",
        issued_on=clock.paris_date(payment.paid_at),
        s3_key=f"{tenant_prefix(payment.tenant_number)}payment-receipts/{filename}",
        filename=filename,
        period=None,
        amount_cents=payment.amount_cents,
        created_at=clock.iso_instant(),
        extra={"payment_id": payment.payment_id, "paid_at": payment.paid_at},
    )


def _store_receipt_and_mail(payment: Payment) -> None:
    account = account_store().get(payment.account_id)
    tenancy = tenancy_store().get_tenancy(payment.tenant_number)
    pdf = render_receipt(receipt_details(payment, account, tenancy))
    document = receipt_document(payment)
    documents = document_store()
    documents.put_pdf(document, pdf)
    documents.put(document, only_if_new=True)
    store = payment_store()
    store.record_receipt(payment, document.doc_id)
    # A disabled account (the office's decision, or a holder who left the tenancy) gets no
    # more e-mails; the receipt stays listed for the tenancy.
    if account is not None and account.email and not account.disabled:
        get_mailer().send(confirmation_email(payment, account, document.filename, pdf))
        count("PaymentReceiptsSent")
    store.mark_fulfilled(payment, at=clock.iso_instant())
