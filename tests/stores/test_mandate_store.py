"""MandateStore and its twin obey the same contract."""

from __future__ import annotations

from dataclasses import replace

import pytest

from oph.documents.model import MANDATE, Document
from oph.documents.store import DocumentStore
from oph.payments.mandate import (
    ACTIVE,
    CREATE,
    PENDING,
    REJECTED,
    REVOCATION_PENDING,
    REVOKE,
    REVOKED,
    DirectDebitExists,
    Mandate,
)
from oph.payments.mandate_store import MandateStore
from oph.platform.errors import NotFound
from oph.platform.transaction import Transaction
from tests.stores.conftest import twin_or_real
from tests.twins.documents import MemoryDocumentStore
from tests.twins.payments import MemoryMandateStore


def _real() -> tuple[MandateStore, DocumentStore]:
    return MandateStore(), DocumentStore()


def _twin() -> tuple[MemoryMandateStore, MemoryDocumentStore]:
    documents = MemoryDocumentStore()
    return MemoryMandateStore(documents), documents


pair = twin_or_real(_real, _twin)


def mandate(sequence: int = 1, *, status: str = PENDING, signed_at: str = "2019-05-28T12:05:00Z", **kw) -> Mandate:
    values = {
        "tenant_number": "123456",
        "reference": f"OPH-123456-{sequence:04d}",
        "sequence": sequence,
        "status": status,
        "account_holder": "DUPOND Jean",
        "iban_masked": "FR14 **** **** **** **** ***2 606",
        "debit_day": 5,
        "signed_at": signed_at,
        "signed_by": "acc-jean",
        "document_id": f"doc-{sequence}",
        "iban_ciphertext": f"cipher-{sequence}",
    }
    values.update(kw)
    return Mandate(**values)


def document(m: Mandate) -> Document:
    return Document(
        doc_id=str(m.document_id),
        tenant_number=m.tenant_number,
        type=MANDATE,
        title=f"Mandat de prélèvement SEPA — {m.reference}",
        issued_on=m.signed_at[:10],
        s3_key=f"tenants/123456/mandates/mandat-sepa-{m.reference}-x.pdf",
        filename=f"mandat-sepa-{m.reference}.pdf",
        created_at=m.signed_at,
        extra={"mandate_reference": m.reference},
    )


def sign(store, m: Mandate, previous: Mandate | None = None) -> None:
    Transaction(store.sign_items(m, previous=previous, document=document(m))).commit()


def test_a_signature_is_the_current_mandate_its_document_and_its_export_line(pair):
    store, documents = pair
    assert store.current("123456") is None and store.all("123456") == []
    first = mandate()
    sign(store, first)
    assert store.current("00123456") == first
    assert store.get("123456", first.reference) == first
    assert store.get("123456", "OPH-123456-0009") is None
    assert store.all("123456") == [first]
    listed = documents.get("123456", "doc-1")
    assert (listed.type, listed.filename) == (MANDATE, "mandat-sepa-OPH-123456-0001.pdf")
    [line] = store.export_entries("2019-05-28")
    assert (line.mandate_reference, line.tenant_number, line.account_holder, line.iban_ciphertext) == (
        first.reference,
        "123456",
        "DUPOND Jean",
        "cipher-1",
    )
    assert (line.debit_day, line.signed_at, line.action) == (5, first.signed_at, CREATE)


def test_a_second_signature_from_the_same_read_is_refused(pair):
    store, documents = pair
    sign(store, mandate())
    with pytest.raises(DirectDebitExists):
        sign(store, mandate(account_holder="DUPOND Marie", signed_by="acc-marie", document_id="doc-x"))
    assert store.current("123456").signed_by == "acc-jean"
    assert documents.get("123456", "doc-x") is None
    assert len(store.export_entries("2019-05-28")) == 1


def test_a_signature_replacing_a_stale_read_is_refused(pair):
    store, _ = pair
    first = mandate()
    sign(store, first)
    assert store.set_status("123456", first.reference, REVOKED, allowed_from={PENDING}) is not None
    with pytest.raises(DirectDebitExists):
        sign(store, mandate(2), previous=first)  # read while it was still pending


def test_a_new_mandate_keeps_the_one_it_replaces(pair):
    store, _ = pair
    first = mandate()
    sign(store, first)
    rejected = store.set_status("123456", first.reference, REJECTED, allowed_from={PENDING})
    assert rejected == replace(first, status=REJECTED)
    second = mandate(2, signed_at="2019-05-29T08:00:00Z")
    sign(store, second, previous=rejected)
    assert store.current("123456") == second
    assert store.get("123456", first.reference) == rejected
    assert [m.reference for m in store.all("123456")] == [second.reference, first.reference]


def test_revocation_request_and_its_export_line(pair):
    store, _ = pair
    first = mandate()
    sign(store, first)
    Transaction(store.revoke_items(first, at="2019-05-28T21:59:59Z")).commit()  # 23:59:59 in Paris
    assert store.current("123456").status == REVOCATION_PENDING
    assert [(e.action, e.mandate_reference) for e in store.export_entries("2019-05-28")] == [
        (CREATE, first.reference),
        (REVOKE, first.reference),
    ]
    with pytest.raises(NotFound):
        Transaction(store.revoke_items(first, at="2019-05-28T22:00:00Z")).commit()
    assert store.export_entries("2019-05-29") == []


def test_status_changes_only_from_the_allowed_statuses(pair):
    store, _ = pair
    first = mandate()
    sign(store, first)
    assert store.set_status("123456", first.reference, REVOKED, allowed_from={REVOCATION_PENDING, ACTIVE}) is None
    assert store.set_status("123456", "OPH-123456-0002", ACTIVE, allowed_from={PENDING}) is None
    assert store.set_status("999999", first.reference, ACTIVE, allowed_from={PENDING}) is None
    assert store.set_status("123456", first.reference, ACTIVE, allowed_from=set()) is None
    assert store.current("123456").status == PENDING
    active = store.set_status("123456", first.reference, ACTIVE, allowed_from={PENDING})
    assert active == replace(first, status=ACTIVE)
    assert store.current("123456") == active


def test_unlinking_a_signer_keeps_the_mandates(pair):
    store, _ = pair
    first = mandate()
    sign(store, first)
    rejected = store.set_status("123456", first.reference, REJECTED, allowed_from={PENDING})
    second = mandate(2, signed_by="acc-marie")
    sign(store, second, previous=rejected)
    assert store.unlink_signer_items("123456", "acc-nobody") == []
    Transaction(store.unlink_signer_items("123456", "acc-jean")).commit()
    assert store.get("123456", first.reference).signed_by is None
    assert store.current("123456").signed_by == "acc-marie"
    Transaction(store.unlink_signer_items("123456", "acc-marie")).commit()
    assert [m.signed_by for m in store.all("123456")] == [None, None]
    assert store.current("123456") == replace(second, signed_by=None)


def test_export_entries_come_in_the_order_they_happened(pair):
    store, _ = pair
    late = mandate(signed_at="2019-05-28T18:00:00Z")
    sign(store, late)
    other = replace(mandate(signed_at="2019-05-28T07:00:00Z"), tenant_number="654321", reference="OPH-654321-0001")
    Transaction(store.sign_items(other, previous=None, document=None)).commit()
    assert [e.mandate_reference for e in store.export_entries("2019-05-28")] == [
        "OPH-654321-0001",
        "OPH-123456-0001",
    ]
