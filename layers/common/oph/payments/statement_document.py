"""The relevé de compte as a document (``POST /v1/documents/statements``, contract section 8).

The range is validated as for ``GET /v1/payments/statement`` (:func:`oph.payments.statement.
statement_range`: the same defaults and the same 422s), then the statement is the same one
(:func:`oph.payments.statement.statement`), drawn by :mod:`oph.payments.statement_pdf` and
listed in "Mes documents" as a ``statement`` (``period`` null).

A statement is a document of the day it was produced: its id is derived from (tenancy, from,
to, Paris day), so the same range asked again the same day gives the same document (200),
without computing or drawing anything again; asked another day it is a new document (201),
with the figures of that day, and the earlier one stays listed. Two requests at the same time
store the same bytes under the same key, and only one index item is created
(``only_if_new``): the other gets the document that won.
"""

from __future__ import annotations

import uuid

from oph.documents.model import STATEMENT, Document, tenant_prefix
from oph.documents.store import document_store
from oph.payments.statement import Statement, statement, statement_range
from oph.payments.statement_pdf import render_statement
from oph.platform import clock
from oph.platform.french import date_fr
from oph.platform.observability import count
from oph.tenancy.model import normalize_tenant_number
from oph.tenancy.store import tenancy_pk, tenancy_store

_NAMESPACE = uuid.UUID("7e1d2c4a-3b5f-4d6e-8a9b-0c1d2e3f4a5b")


def statement_doc_id(tenant_number: str, from_date: str, to_date: str, produced_on: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"statement|{tenancy_pk(tenant_number)}|{from_date}|{to_date}|{produced_on}"))


def statement_title(from_date: str, to_date: str) -> str:
    """ "Relevé de compte — du 01/01/2019 au 31/05/2019"."""
    return f"Relevé de compte — du {date_fr(from_date)} au {date_fr(to_date)}"


def statement_filename(from_date: str, to_date: str) -> str:
    """ "releve-compte-2019-01-01-2019-05-31.pdf" (contract section 5)."""
    return f"releve-compte-{from_date}-{to_date}.pdf"


def statement_document(tenant_number: str, from_date: str, to_date: str, produced_on: str) -> Document:
    number = normalize_tenant_number(tenant_number)
    doc_id = statement_doc_id(number, from_date, to_date, produced_on)
    filename = statement_filename(from_date, to_date)
    return Document(
        doc_id=doc_id,
        tenant_number=number,
        type=STATEMENT,
        title=statement_title(from_date, to_date),
        issued_on=produced_on,
        s3_key=f"{tenant_prefix(number)}statements/{filename[:-4]}-{produced_on}-{doc_id[:8]}.pdf",
        filename=filename,
        period=None,
        created_at=clock.iso_instant(),
        extra={"from": from_date, "to": to_date},
    )


def _with_figures(document: Document, found: Statement) -> Document:
    document.extra = {
        **(document.extra or {}),
        "opening_balance_cents": found.opening_balance_cents,
        "closing_balance_cents": found.closing_balance_cents,
        "amount_to_pay_cents": found.amount_to_pay_cents,
    }
    return document


def create_statement_document(tenant_number: str, from_date: str | None, to_date: str | None) -> tuple[Document, bool]:
    """The statement of the range as a PDF document; (document, created)."""
    today = clock.paris_today()
    start, end = statement_range(from_date, to_date, today=today)
    document = statement_document(tenant_number, start, end, today)
    documents = document_store()
    existing = documents.get(document.tenant_number, document.doc_id)
    if existing is not None:
        return existing, False
    found = statement(tenant_number, start, end)
    tenancies = tenancy_store()
    pdf = render_statement(
        found,
        tenancies.get_tenancy(document.tenant_number),
        tenancies.list_holders(document.tenant_number),
        tenant_number=document.tenant_number,
        produced_on=today,
    )
    document = _with_figures(document, found)
    documents.put_pdf(document, pdf)
    if not documents.put(document, only_if_new=True):  # asked twice at the same time
        return documents.get(document.tenant_number, document.doc_id) or document, False
    count("StatementsCreated")
    return document, True
