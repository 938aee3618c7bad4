"""The SEPA mandate as a document of "Mes documents" (contract sections 5 and 8).

When a holder signs a mandate (``PUT /v1/payments/direct-debit``), its PDF
(:mod:`oph.payments.mandate_pdf`) is stored under the tenancy's own prefix and listed as a
``mandate``: title "Mandat de prélèvement SEPA — OPH-123456-0001", downloaded as
``mandat-sepa-OPH-123456-0001.pdf``, issued on the Paris day of the signature (a mandate
signed at 23:59:59 Paris time is dated that day, like the export that carries it).

The document's id is derived from (tenancy, mandate reference), so the signing use case can
name it on the mandate before anything is written, and a retried signature stores the same
bytes under the same key and the same index item. Storing both is the caller's business (the
signature's transaction); this module only builds them.
"""

from __future__ import annotations

import uuid

from oph.documents.model import MANDATE, Document, tenant_prefix
from oph.payments.mandate import Mandate
from oph.payments.mandate_pdf import render_mandate
from oph.platform import clock
from oph.tenancy.model import Holder, Tenancy, normalize_tenant_number
from oph.tenancy.store import tenancy_pk

_NAMESPACE = uuid.UUID("5b0f3c2e-8d41-4a6f-9e27-1c3d5a7b9e04")


def mandate_doc_id(tenant_number: str, reference: str) -> str:
    """The id of a mandate's document: the same for the same mandate, whoever asks."""
    return str(uuid.uuid5(_NAMESPACE, f"mandate|{tenancy_pk(tenant_number)}|{reference}"))


def mandate_title(reference: str) -> str:
    """ "Mandat de prélèvement SEPA — OPH-123456-0001"."""
    return f"Mandat de prélèvement SEPA — {reference}"


def mandate_filename(reference: str) -> str:
    """ "mandat-sepa-OPH-123456-0001.pdf" (contract section 5)."""
    return f"mandat-sepa-{reference}.pdf"


def mandate_document(mandate: Mandate, holder: Holder | None, tenancy: Tenancy | None) -> tuple[Document, bytes]:
    """The ``mandate`` document of a signed mandate and its PDF (neither is stored here).

    ``holder`` is the holder who signed (their name is printed as the signatory; the debtor
    is the mandate's ``account_holder``), ``tenancy`` gives the debtor's address.
    """
    number = normalize_tenant_number(mandate.tenant_number)
    doc_id = mandate.document_id or mandate_doc_id(number, mandate.reference)
    filename = mandate_filename(mandate.reference)
    document = Document(
        doc_id=doc_id,
        tenant_number=number,
        type=MANDATE,
        title=mandate_title(mandate.reference),
        issued_on=clock.paris_date(mandate.signed_at),
        s3_key=f"{tenant_prefix(number)}mandates/{filename}",
        filename=filename,
        period=None,
        created_at=mandate.signed_at,
        extra={"mandate_reference": mandate.reference, "debit_day": mandate.debit_day},
    )
    return document, render_mandate(mandate, holder, tenancy)
