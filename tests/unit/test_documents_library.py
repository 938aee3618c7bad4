""" "Mes documents" against the in-memory stores: listing newest first, download links only
under the caller's own tenancy and prefix, a notice not yet rendered rendered on download."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from oph.documents.library import download_link, list_documents
from oph.documents.model import NOTICE, PAYMENT_RECEIPT, RECEIPT, Document, tenant_prefix
from oph.documents.store import document_store
from oph.platform.errors import NotFound, ValidationFailed
from oph.tenancy.model import Holder, Tenancy
from oph.tenancy.store import tenancy_store
from tests.twins.documents import MemoryDocumentStore
from tests.twins.tenancy import MemoryTenancyStore


def doc(doc_id: str, kind: str = NOTICE, period: str | None = "2019-05", issued_on: str = "2019-05-24") -> Document:
    return Document(
        doc_id=doc_id,
        tenant_number="123456",
        type=kind,
        title=doc_id,
        issued_on=issued_on,
        s3_key=f"{tenant_prefix('123456')}{doc_id}.pdf",
        filename=f"{doc_id}.pdf",
        period=period,
        due_date="2019-06-10" if kind == NOTICE else None,
        amount_due_cents=22000 if kind == NOTICE else None,
        amount_cents=None if kind == NOTICE else 100,
        rendered_at="2019-05-24T08:00:00Z",
    )


@pytest.fixture
def documents() -> Iterator[MemoryDocumentStore]:
    tenancies = MemoryTenancyStore()
    tenancies.put_tenancy(Tenancy("123456", "C1", "T1", "10 Rue Hémet", "93300", "AUBERVILLIERS"))
    tenancies.put_holder(Holder("123456", "DUPOND", "Jean", "1975-09-10"))
    with document_store.override(MemoryDocumentStore()) as store, tenancy_store.override(tenancies):
        yield store


def test_listing_is_newest_first_and_filtered_by_type(documents):
    documents.put(doc("avis-echeance-2019-04", period="2019-04", issued_on="2019-04-24"))
    documents.put(doc("avis-echeance-2019-05"))
    documents.put(doc("recu-paiement-p1", PAYMENT_RECEIPT, period=None, issued_on="2019-06-01"))
    assert [d["id"] for d in list_documents("123456")] == [
        "recu-paiement-p1",
        "avis-echeance-2019-05",
        "avis-echeance-2019-04",
    ]
    assert [d["id"] for d in list_documents("123456", NOTICE)] == ["avis-echeance-2019-05", "avis-echeance-2019-04"]
    with pytest.raises(ValidationFailed):
        list_documents("123456", "everything")


def test_a_link_is_signed_for_the_callers_own_documents_only(documents):
    documents.put(doc("avis-echeance-2019-05"))
    link = download_link("123456", "avis-echeance-2019-05")
    assert link["expires_in"] == 300 and link["filename"] == "avis-echeance-2019-05.pdf"
    assert "tenants/123456/avis-echeance-2019-05.pdf" in link["url"]
    for caller, doc_id in (
        ("999999", "avis-echeance-2019-05"),
        ("123456", "nope"),
        ("123456", ""),
        ("123456", "x" * 201),
    ):
        with pytest.raises(NotFound):
            download_link(caller, doc_id)


def test_a_key_outside_the_callers_prefix_is_never_signed(documents):
    forged = replace(doc("forged"), s3_key="tenants/999999/x.pdf")
    documents.documents[("123456", "forged")] = forged  # as if written by someone else
    with pytest.raises(NotFound):
        download_link("123456", "forged")
    documents.documents[("123456", "dots")] = replace(doc("dots"), s3_key="tenants/123456/../999999/x.pdf")
    with pytest.raises(NotFound):
        download_link("123456", "dots")


def test_unsafe_file_names_are_replaced_by_the_contracts(documents):
    documents.put(replace(doc("q"), type=RECEIPT, filename="../x", extra={"kind": "quittance"}))
    assert download_link("123456", "q")["filename"] == "quittance-2019-05.pdf"


def test_a_notice_not_yet_rendered_is_rendered_on_download(documents):
    documents.put(replace(doc("n"), rendered_at=None, extra={"lines": []}))
    download_link("123456", "n")
    assert documents.pdfs["tenants/123456/n.pdf"].startswith(b"%PDF-")
    assert documents.get("123456", "n").rendered_at
