"""PaymentStore and its twin obey the same contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from oph.documents.model import NOTICE, Document
from oph.payments.model import AlreadySucceeded, IdempotencyKeyUsed, IdempotencyRecord, Payment
from oph.platform.transaction import Transaction
from oph.tenancy.model import Holder, Movement, Tenancy
from tests.stores.conftest import twin_or_real
from tests.twins.documents import MemoryDocumentStore
from tests.twins.payments import MemoryPaymentStore
from tests.twins.tenancy import MemoryTenancyStore


@dataclass
class World:
    payments: Any
    tenancies: Any
    documents: Any


def _real() -> World:
    from oph.documents.store import DocumentStore
    from oph.payments.store import PaymentStore
    from oph.tenancy.store import TenancyStore

    return World(PaymentStore(), TenancyStore(), DocumentStore())


def _twin() -> World:
    tenancies, documents = MemoryTenancyStore(), MemoryDocumentStore()
    return World(MemoryPaymentStore(tenancies, documents), tenancies, documents)


world = twin_or_real(_real, _twin)


@pytest.fixture
def store(world):
    return world.payments


def payment(payment_id: str = "a1", tenant_number: str = "123456", **overrides: Any) -> Payment:
    values: dict[str, Any] = {
        "payment_id": payment_id,
        "tenant_number": tenant_number,
        "account_id": "acc-1",
        "amount_cents": 22000,
        "status": "created",
        "created_at": "2024-06-12T10:00:00Z",
        "provider": "sandbox",
        "site_id": "12345678",
        "ctx_mode": "TEST",
        "trans_id": "000001",
        "trans_date": "20240612100000",
    }
    values.update(overrides)
    return Payment(**values)


def test_a_new_payment_is_found_by_its_tenancy_and_by_id_alone(store):
    Transaction(store.add(payment(tenant_number="00123 456"))).commit()
    found = store.get("123456", "a1")
    assert found == payment()  # the tenant number is stored normalised
    assert store.find("a1") == found
    assert store.for_tenancy(" 123456") == [found]
    assert store.get("999999", "a1") is None  # another tenancy's id is not found
    for odd in ("", "x" * 65, "../a1", "ÉÉ"):
        assert store.get("123456", odd) is None and store.find(odd) is None


def test_the_open_index_lists_unsettled_payments_up_to_an_instant(store):
    Transaction(store.add(payment("a1", created_at="2024-06-12T10:00:00Z"))).commit()
    Transaction(store.add(payment("a2", created_at="2024-06-12T11:00:00Z"))).commit()
    Transaction(store.add(payment("a3", created_at="2024-06-13T09:00:00Z"))).commit()
    assert store.open_until("2024-06-12T10:00:00Z") == [("123456", "a1", "2024-06-12T10:00:00Z")]
    assert [p[1] for p in store.open_until("2024-06-13T09:00:00Z")] == ["a1", "a2", "a3"]
    assert store.open_until("2024-06-11T23:59:59Z") == []
    store.drop_open("2024-06-12T10:00:00Z", "a1")
    assert [p[1] for p in store.open_until("2024-06-13T00:00:00Z")] == ["a2"]


def test_a_payment_leaves_the_open_index_when_it_settles(store):
    Transaction(store.add(payment("a1", created_at="2024-06-12T10:00:00Z"))).commit()
    Transaction(store.add(payment("a2", created_at="2024-06-12T10:01:00Z"))).commit()
    Transaction(store.add(payment("a3", created_at="2024-06-12T10:02:00Z"))).commit()
    Transaction(
        store.mark_succeeded(
            payment("a1", created_at="2024-06-12T10:00:00Z"),
            paid_at="2024-06-12T10:07:00Z",
            trans_status="AUTHORISED",
            trans_uuid="u",
        )
    ).commit()
    assert store.close(payment("a2", created_at="2024-06-12T10:01:00Z"), "refused", trans_status="REFUSED", at="x")
    assert store.open_until("2024-06-13T00:00:00Z") == [("123456", "a3", "2024-06-12T10:02:00Z")]


def test_an_idempotency_key_is_taken_once_until_it_expires(store):
    first = IdempotencyRecord("h1", "a1", {"id": "a1", "checkout_url": "https://x/é"}, valid_until=1000)
    Transaction(store.claim_idempotency_key("acc-1", "k", first, now_ts=500)).commit()
    assert store.idempotency_record("acc-1", "k") == first
    assert store.idempotency_record("acc-2", "k") is None  # keys are the account's
    second = IdempotencyRecord("h2", "a2", {"id": "a2"}, valid_until=2000)
    with pytest.raises(IdempotencyKeyUsed):
        Transaction(store.claim_idempotency_key("acc-1", "k", second, now_ts=999), store.add(payment("a2"))).commit()
    assert store.get("123456", "a2") is None  # nothing of the transaction was written
    Transaction(store.claim_idempotency_key("acc-1", "k", second, now_ts=1000)).commit()
    assert store.idempotency_record("acc-1", "k") == second


def test_transaction_ids_count_per_shop_and_day(store):
    assert [store.next_trans_sequence("s1", "20240612") for _ in range(3)] == [0, 1, 2]
    assert store.next_trans_sequence("s1", "20240613") == 0
    assert store.next_trans_sequence("s2", "20240612") == 0


def test_success_is_recorded_once_with_its_paid_day_entry(store):
    Transaction(store.add(payment())).commit()
    paid_at = "2024-06-12T22:30:00Z"  # already the 13th in Paris
    Transaction(store.mark_succeeded(payment(), paid_at=paid_at, trans_status="AUTHORISED", trans_uuid="u1")).commit()
    stored = store.get("123456", "a1")
    assert (stored.status, stored.paid_at, stored.settled_at, stored.trans_uuid) == (
        "succeeded",
        paid_at,
        paid_at,
        "u1",
    )
    [entry] = store.paid_on("2024-06-13")
    assert (entry.payment_id, entry.tenant_number, entry.amount_cents, entry.paid_at) == (
        "a1",
        "123456",
        22000,
        paid_at,
    )
    assert (entry.trans_id, entry.trans_date, entry.provider, entry.status) == (
        "000001",
        "20240612100000",
        "sandbox",
        "succeeded",
    )
    assert store.paid_on("2024-06-12") == []
    with pytest.raises(AlreadySucceeded):
        Transaction(
            store.mark_succeeded(payment(), paid_at="2024-06-14T08:00:00Z", trans_status="CAPTURED", trans_uuid="u2")
        ).commit()
    assert store.get("123456", "a1").paid_at == paid_at
    assert store.paid_on("2024-06-14") == []


def test_a_failure_only_closes_a_created_payment_and_success_still_wins(store):
    Transaction(store.add(payment())).commit()
    assert store.close(payment(), "refused", trans_status="REFUSED", at="2024-06-12T10:05:00Z") is True
    assert store.close(payment(), "abandoned", trans_status="ABANDONED", at="2024-06-12T10:06:00Z") is False
    assert store.get("123456", "a1").status == "refused"
    Transaction(
        store.mark_succeeded(payment(), paid_at="2024-06-12T10:07:00Z", trans_status="AUTHORISED", trans_uuid="u")
    ).commit()
    assert store.get("123456", "a1").status == "succeeded"
    assert store.close(payment(), "refused", trans_status="REFUSED", at="2024-06-12T10:08:00Z") is False
    assert store.close(payment("nope"), "refused", trans_status="REFUSED", at="2024-06-12T10:08:00Z") is False


def test_expiry_only_touches_created_payments_old_enough(store):
    Transaction(store.add(payment("a1", created_at="2024-06-12T10:00:00Z"))).commit()
    Transaction(store.add(payment("a2", created_at="2024-06-12T11:00:00Z"))).commit()
    assert store.expire("123456", "a2", cutoff="2024-06-12T10:30:00Z", at="2024-06-12T11:30:00Z") is False
    assert store.expire("123456", "a1", cutoff="2024-06-12T10:30:00Z", at="2024-06-12T11:30:00Z") is True
    assert store.expire("123456", "a1", cutoff="2024-06-12T10:30:00Z", at="2024-06-12T11:31:00Z") is False
    expired = store.get("123456", "a1")
    assert (expired.status, expired.settled_at) == ("expired", "2024-06-12T11:30:00Z")


def test_the_fulfilment_lease_elects_one_worker(store):
    Transaction(store.add(payment())).commit()
    assert store.claim_fulfilment(payment(), now_ts=1000, lease_seconds=120) is False  # not succeeded
    Transaction(
        store.mark_succeeded(payment(), paid_at="2024-06-12T10:07:00Z", trans_status="AUTHORISED", trans_uuid="u")
    ).commit()
    assert store.claim_fulfilment(payment(), now_ts=1000, lease_seconds=120) is True
    assert store.claim_fulfilment(payment(), now_ts=1100, lease_seconds=120) is False
    assert store.claim_fulfilment(payment(), now_ts=1121, lease_seconds=120) is True  # a stale lease
    store.release_fulfilment(payment())
    assert store.claim_fulfilment(payment(), now_ts=1122, lease_seconds=120) is True
    store.record_receipt(payment(), "payment-a1")
    store.mark_fulfilled(payment(), at="2024-06-12T10:08:00Z")
    done = store.get("123456", "a1")
    assert (done.receipt_doc_id, done.fulfilled_at) == ("payment-a1", "2024-06-12T10:08:00Z")
    assert store.claim_fulfilment(payment(), now_ts=5000, lease_seconds=120) is False


def _notice(period: str) -> Document:
    return Document(
        doc_id=f"n-{period}",
        tenant_number="123456",
        type=NOTICE,
        title=f"Avis {period}",
        issued_on=f"{period}-24",
        s3_key=f"tenants/123456/notices/{period}.pdf",
        filename=f"avis-{period}.pdf",
        period=period,
        due_date=f"{period}-28",
        amount_due_cents=22000,
        extra={"lines": [{"label": "Loyer", "category": "rent", "amount_cents": 22000}]},
    )


def test_the_snapshot_reads_the_whole_partition(world, store):
    world.tenancies.put_tenancy(
        Tenancy("123456", "C1", "T1", "10 Rue Hémet", "93300", "AUBERVILLIERS", 61068, "2019-05-23")
    )
    world.tenancies.put_holder(Holder("123456", "DUPOND", "Jean", "1975-09-10"))
    world.documents.put(_notice("2019-05"))
    Transaction(store.add(payment("a1"))).commit()
    Transaction(store.add(payment("b2", tenant_number="999999"))).commit()
    movements = [
        Movement("123456", "2019-01-01", "Report à nouveau", 39068, "M-1"),
        Movement("123456", "2019-05-23", "Loyer avril 2019", 22000, "a1"),
    ]
    assert world.tenancies.put_movements([*movements, Movement("999999", "2019-01-01", "Loyer", 1, "M-1")]) == []

    snapshot = store.snapshot("123456")
    assert snapshot.tenancy == Tenancy(
        "123456", "C1", "T1", "10 Rue Hémet", "93300", "AUBERVILLIERS", 61068, "2019-05-23", has_movements=True
    )
    assert [h.first_name for h in snapshot.holders] == ["Jean"]
    assert snapshot.documents == {"n-2019-05": _notice("2019-05")}
    assert snapshot.payments == [payment("a1")]
    assert sorted(snapshot.movements, key=lambda m: m.reference) == movements

    light = store.snapshot("123456", for_balance=True)
    assert light.tenancy is not None and light.holders == []
    assert (light.tenancy.balance_cents, light.tenancy.balance_date) == (61068, "2019-05-23")
    assert sorted(light.movements, key=lambda m: m.reference) == movements
    [notice] = light.notices
    assert (notice.period, notice.issued_on, notice.due_date, notice.amount_due_cents) == (
        "2019-05",
        "2019-05-24",
        "2019-05-28",
        22000,
    )
    assert notice.extra is None
    [paid] = light.payments
    assert (paid.payment_id, paid.amount_cents, paid.status, paid.paid_at) == ("a1", 22000, "created", None)
    assert store.snapshot("555555").tenancy is None


def test_the_export_is_written_under_its_days_key(store, request):
    if not isinstance(store, MemoryPaymentStore):
        request.getfixturevalue("runtime")  # the stage's settings name the documents bucket
    assert store.put_export("2024-06-12", b"\xef\xbb\xbfdate_paiement") == "exports/payments/2024-06-12.csv"


def test_the_history_reads_what_the_list_shows(store):
    Transaction(store.add(payment("a1", created_at="2024-06-12T10:00:00Z"))).commit()
    Transaction(store.add(payment("a2", created_at="2024-06-12T11:00:00Z", amount_cents=5000))).commit()
    listed = {p.payment_id: p.as_api() for p in store.history(" 123456")}
    full = {p.payment_id: p.as_api() for p in store.for_tenancy("123456")}
    assert listed == full and set(listed) == {"a1", "a2"}
    assert store.history("999999") == []
