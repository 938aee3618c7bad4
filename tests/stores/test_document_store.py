"""DocumentStore and its twin obey the same contract."""

from __future__ import annotations

from dataclasses import replace

import pytest

from oph.documents.model import NOTICE, RECEIPT, Document, tenant_prefix
from oph.documents.store import DocumentStore
from oph.platform.settings import get_settings
from tests.stores.conftest import twin_or_real
from tests.twins.documents import MemoryDocumentStore

store = twin_or_real(DocumentStore, MemoryDocumentStore)


@pytest.fixture(autouse=True)
def documents_bucket(request, store, monkeypatch):
    """The real store writes its PDFs to the template's bucket (as the functions do)."""
    if isinstance(store, DocumentStore):
        monkeypatch.setenv("DOCUMENTS_BUCKET", request.getfixturevalue("aws").bucket)
        get_settings.cache_clear()


def notice(doc_id: str = "n1", number: str = "123456", period: str = "2019-05") -> Document:
    return Document(
        doc_id=doc_id,
        tenant_number=number,
        type=NOTICE,
        title="Avis d'échéance — mai 2019",
        issued_on="2019-05-24",
        s3_key=f"{tenant_prefix(number)}notices/avis-echeance-{period}.pdf",
        filename=f"avis-echeance-{period}.pdf",
        period=period,
        due_date="2019-06-10",
        amount_due_cents=22000,
        extra={"lines": [{"label": "Loyer", "category": "rent", "amount_cents": 22000}]},
    )


def test_documents_are_found_only_under_their_tenancy(store):
    assert store.put(notice()) is True
    assert store.put(replace(notice("r1"), type=RECEIPT, amount_cents=100)) is True
    assert store.get("00123456", "n1") == notice()
    assert store.get("999999", "n1") is None
    assert sorted(d.doc_id for d in store.list(" 123456")) == ["n1", "r1"]
    assert store.list("999999") == []


def test_only_if_new_keeps_the_first_document(store):
    assert store.put(notice(), only_if_new=True) is True
    assert store.put(replace(notice(), title="autre"), only_if_new=True) is False
    assert store.get("123456", "n1").title == "Avis d'échéance — mai 2019"


def test_a_key_outside_the_tenants_prefix_is_refused(store):
    outside = replace(notice(), s3_key="tenants/999999/notices/x.pdf")
    for write in (store.put, store.create_if_new):
        with pytest.raises(ValueError):
            write(outside)
    with pytest.raises(ValueError):
        store.put_pdf(outside, b"%PDF-")
    assert store.list("123456") == []


def test_create_if_new_returns_the_existing_document_with_its_rendering_state(store):
    assert store.create_if_new(notice()) is None
    existing = store.create_if_new(replace(notice(), title="autre"))
    assert (existing.title, existing.rendered_at) == ("Avis d'échéance — mai 2019", None)
    store.mark_rendered(notice(), "2019-05-24T08:00:00Z")
    assert store.create_if_new(notice()).rendered_at == "2019-05-24T08:00:00Z"
    assert store.get("123456", "n1").rendered_at == "2019-05-24T08:00:00Z"


def test_marking_a_missing_document_rendered_creates_nothing(store):
    store.mark_rendered(notice("gone"), "2019-05-24T08:00:00Z")
    assert store.get("123456", "gone") is None


def test_each_holder_is_claimed_once_and_a_release_frees_the_claim(store):
    store.put(notice())
    at = "2019-05-24T08:00:00Z"
    assert store.mark_rendered_and_claim(notice(), at, ["h1"]) == {"h1"}
    assert store.mark_rendered_and_claim(notice(), at, ["h1"]) == set()
    assert store.mark_rendered_and_claim(notice(), at, ["h2"]) == {"h2"}
    store.release_notification(notice(), "h1")
    assert store.mark_rendered_and_claim(notice(), at, ["h1"]) == {"h1"}
    assert store.mark_rendered_and_claim(notice("gone"), at, ["h1"]) == set()  # no such document


def test_one_write_marks_a_notice_rendered_and_claims_once_each(store):
    store.put(notice())
    assert store.mark_rendered_and_claim(notice(), "2019-05-24T08:00:00Z", ["h1", "push", "h1"]) == {"h1", "push"}
    assert store.get("123456", "n1").rendered_at == "2019-05-24T08:00:00Z"
    # a second delivery of the message: only what nobody claimed yet
    assert store.mark_rendered_and_claim(notice(), "2019-05-24T08:05:00Z", ["h1", "h2", "push"]) == {"h2"}
    assert store.get("123456", "n1").rendered_at == "2019-05-24T08:05:00Z"
    # a release frees one claim, and only that one
    store.release_notification(notice(), "h1")
    assert store.mark_rendered_and_claim(notice(), "2019-05-24T08:10:00Z", ["h1", "h2", "push"]) == {"h1"}
    assert store.mark_rendered_and_claim(notice(), "2019-05-24T08:10:00Z", ["h3"]) == {"h3"}


def test_without_claimants_the_notice_is_only_marked_rendered(store):
    store.put(notice())
    assert store.mark_rendered_and_claim(notice(), "2019-05-24T08:00:00Z", []) == set()
    assert store.get("123456", "n1").rendered_at == "2019-05-24T08:00:00Z"
    assert store.mark_rendered_and_claim(notice(), "2019-05-24T08:01:00Z", ["push"]) == {"push"}  # nothing was claimed


def test_a_missing_notice_is_neither_created_nor_claimed(store):
    assert store.mark_rendered_and_claim(notice("gone"), "2019-05-24T08:00:00Z", ["h1", "push"]) == set()
    assert store.mark_rendered_and_claim(notice("gone"), "2019-05-24T08:00:00Z", []) == set()
    assert store.get("123456", "gone") is None


def test_the_pdf_is_stored_and_a_download_link_names_the_file(store):
    store.put(notice())
    store.put_pdf(notice(), b"%PDF-1.4 test")
    url = store.download_url(notice(), "avis-echeance-2019-05.pdf", 300)
    assert "tenants/123456/notices/avis-echeance-2019-05.pdf" in url
    assert "avis-echeance-2019-05.pdf" in url.split("?", 1)[1]
    assert "300" in url.split("?", 1)[1]
