""" "Mes documents": listing and download links (contract section 5).

Everything is looked up under the caller's own tenancy, so another tenant's document id is
simply not found (404, existence never revealed), and a URL is only ever signed for a key
under the caller's prefix. No PDF library is imported here: listing stays cheap on a cold
start. A notice whose PDF the worker has not stored yet is rendered on first download.
"""

from __future__ import annotations

import re
from typing import Any

from oph.documents.model import (
    MANDATE,
    NOTICE,
    PAYMENT_RECEIPT,
    RECEIPT,
    STATEMENT,
    TYPES,
    Document,
    sort_newest_first,
)
from oph.documents.store import document_store
from oph.platform.errors import NotFound, ValidationFailed
from oph.platform.observability import get_logger
from oph.tenancy.store import tenancy_store

URL_LIFETIME = 300
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.pdf$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TYPE_MESSAGE = "Type de document inconnu (notice, receipt, payment_receipt, statement ou mandate)."


def list_documents(tenant_number: str, doc_type: str | None = None) -> list[dict[str, Any]]:
    if doc_type is not None and doc_type not in TYPES:
        raise ValidationFailed.single("type", "invalid_format", TYPE_MESSAGE)
    documents = document_store().list(tenant_number)
    if doc_type is not None:
        documents = [d for d in documents if d.type == doc_type]
    return [d.as_api() for d in sort_newest_first(documents)]


def _safe(value: object) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", str(value))


def download_filename(document: Document) -> str:
    """The contract's file names (section 5), whatever a writer stored: ``avis-echeance-
    YYYY-MM.pdf``, ``quittance-YYYY-MM.pdf``, ``recu-YYYY-MM.pdf``, ``recu-paiement-<payment
    id>.pdf``, ``releve-compte-YYYY-MM-DD-YYYY-MM-DD.pdf``, ``mandat-sepa-<RUM>.pdf``."""
    if document.filename and _SAFE_FILENAME.match(document.filename):
        return document.filename
    extra = document.extra or {}
    if document.type == NOTICE:
        return f"avis-echeance-{document.period}.pdf"
    if document.type == RECEIPT:
        return f"{'quittance' if extra.get('kind') == 'quittance' else 'recu'}-{document.period}.pdf"
    if document.type == PAYMENT_RECEIPT:
        return f"recu-paiement-{_safe(extra.get('payment_id') or document.doc_id)}.pdf"
    if document.type == STATEMENT and all(_DATE.match(str(extra.get(k) or "")) for k in ("from", "to")):
        return f"releve-compte-{extra['from']}-{extra['to']}.pdf"
    if document.type == MANDATE and _safe(extra.get("mandate_reference") or ""):
        return f"mandat-sepa-{_safe(extra['mandate_reference'])}.pdf"
    return "document.pdf"


def download_link(tenant_number: str, doc_id: str) -> dict[str, Any]:
    if not doc_id or len(doc_id) > 200:
        raise NotFound()
    store = document_store()
    document = store.get(tenant_number, doc_id)
    if document is None:
        raise NotFound()
    if not document.under_prefix_of(tenant_number) or ".." in document.s3_key:
        get_logger().warning("document key outside the caller's prefix refused")
        raise NotFound()
    if document.type == NOTICE and document.rendered_at is None:
        _render_now(document)
    filename = download_filename(document)
    url = store.download_url(document, filename, URL_LIFETIME)
    return {"url": url, "expires_in": URL_LIFETIME, "filename": filename}


def _render_now(document: Document) -> None:
    """The import created the notice but its worker has not stored the PDF yet."""
    from oph.documents.delivery import publish_pdf

    tenancies = tenancy_store()
    tenancy = tenancies.get_tenancy(document.tenant_number)
    publish_pdf(document, tenancy or {}, tenancies.list_holders(document.tenant_number))
