"""The payment use cases' rules against the twins (no AWS): idempotent creation, the status
machine, fulfilment once, expiry, the balance, quittances settled oldest first, the export."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

import pytest

from oph.accounts.model import Account
from oph.documents.model import NOTICE, PAYMENT_RECEIPT, Document
from oph.payments import balance, checkout, jobs, notifications, receipts, sandbox, statement
from oph.payments.adapters.gateway import build_notification, get_gateway
from oph.payments.model import IdempotencyRecord
from oph.payments.settlement import PAID, Settlement
from oph.platform import clock, errors
from oph.platform.settings import get_settings
from oph.platform.transaction import Transaction
from oph.tenancy.model import Holder, Movement, Tenancy
from tests.twins.payments import TEST_KEYS, MemoryPaymentStore, PaymentsTwin, memory_payments

NUMBER = "123456"
JEAN = Account(
    account_id="acc-jean",
    tenant_number=NUMBER,
    holder_id="h-jean",
    email="jean.dupond@exemple.com",
    status="active",
    password_hash="$2b$04$hash",
    first_name="Jean",
    last_name="DUPOND",
)


@pytest.fixture
def twin() -> Iterator[PaymentsTwin]:
    clock.set_offset(0)
    with memory_payments() as twin:
        twin.tenancy.put_tenancy(
            Tenancy(NUMBER, "C1", "T1", "10 Rue Hémet", "93300", "AUBERVILLIERS", 61068, "2019-05-23")
        )
        twin.tenancy.put_holder(Holder(NUMBER, "DUPOND", "Jean", "1975-09-10"))
        Transaction(twin.accounts.create_item(JEAN)).commit()
        yield twin
    clock.set_offset(0)


def create(amount: int = 22000, key: str = "k1", account: Account = JEAN) -> tuple[int, dict]:
    return checkout.create_payment(
        account_id=account.account_id, tenant_number=account.tenant_number, amount_cents=amount, idempotency_key=key
    )


def new_payment(amount: int = 22000) -> str:
    status, answer = create(amount, key=f"key-{amount}-{clock.now_ts()}")
    assert status == 201
    return str(answer["id"])


def notification(twin: PaymentsTwin, payment_id: str, trans_status: str = "AUTHORISED") -> bytes:
    """The IPN the gateway would send for this payment, signed with the shop's test key."""
    payment = twin.payments.find(payment_id)
    form = get_gateway(payment.provider).checkout_form(
        checkout.gateway_payment(payment), checkout.return_url(payment_id)
    )
    return urlencode(build_notification(form.fields, trans_status, TEST_KEYS.test_key, "4970100000000003")).encode()


def notify(twin: PaymentsTwin, payment_id: str, trans_status: str = "AUTHORISED") -> None:
    notifications.handle_notification("sandbox", notification(twin, payment_id, trans_status))


def status_of(twin: PaymentsTwin, payment_id: str) -> str:
    return twin.payments.get(NUMBER, payment_id).status


# ---------------------------------------------------------------- creating, idempotently
def test_the_same_key_and_body_replay_the_first_answer(twin):
    first = create(22000, "k")
    assert first[0] == 201
    assert set(first[1]) == {"id", "status", "amount_cents", "checkout_url"}
    assert first[1]["checkout_url"].startswith(get_settings().link("/links/checkout?payment_id="))
    assert create(22000, "k") == (200, first[1])
    assert [p.payment_id for p in twin.payments.for_tenancy(NUMBER)] == [first[1]["id"]]


def test_the_same_key_with_another_body_is_a_conflict(twin):
    create(22000, "k")
    with pytest.raises(errors.IdempotencyConflict):
        create(22100, "k")
    assert len(twin.payments.for_tenancy(NUMBER)) == 1


def test_keys_are_the_accounts_and_kept_24_hours(twin):
    marie = Account(**{**JEAN.__dict__, "account_id": "acc-marie", "holder_id": "h-marie", "email": "m@exemple.com"})
    first = create(22000, "k")[1]
    assert create(22000, "k", marie)[0] == 201
    clock.set_offset(24 * 3600 - 1)
    assert create(22000, "k") == (200, first)
    with pytest.raises(errors.IdempotencyConflict):
        create(30000, "k")
    clock.set_offset(24 * 3600)
    status, later = create(30000, "k")
    assert status == 201 and later["id"] != first["id"]


class LateReader(MemoryPaymentStore):
    """A double tap: the other request's answer lands between our read and our write."""

    def __init__(self, winner: IdempotencyRecord, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.winner = winner
        self.reads = 0

    def idempotency_record(self, account_id: str, key: str) -> IdempotencyRecord | None:
        self.reads += 1
        if self.reads == 1:
            self.idempotency[(account_id, key)] = self.winner
            return None
        return super().idempotency_record(account_id, key)


def test_the_loser_of_a_double_tap_replays_the_winners_answer(twin):
    from oph.payments.store import payment_store

    answer = {"id": "winner", "status": "created", "amount_cents": 22000, "checkout_url": "https://x"}
    winner = IdempotencyRecord(checkout.request_hash(22000), "winner", answer, int(clock.now_ts()) + 3600)
    racing = LateReader(winner, twin.tenancy, twin.documents)
    with payment_store.override(racing):
        assert create(22000, "k") == (200, answer)
    assert racing.payments == {} and racing.open_index == {}  # the loser wrote nothing


# ---------------------------------------------------------------- the status machine
def test_a_genuine_success_is_recorded_once(twin):
    payment_id = new_payment()
    notify(twin, payment_id)
    paid = twin.payments.get(NUMBER, payment_id)
    assert (paid.status, paid.trans_status) == ("succeeded", "AUTHORISED")
    clock.set_offset(120)
    notify(twin, payment_id)  # a duplicate
    notify(twin, payment_id, "CAPTURED")
    assert twin.payments.get(NUMBER, payment_id).paid_at == paid.paid_at
    assert len(twin.payments.paid_on(clock.paris_date(paid.paid_at))) == 1


@pytest.mark.parametrize("later", ["REFUSED", "ABANDONED", "CANCELLED", "EXPIRED", "UNDER_VERIFICATION"])
def test_succeeded_never_changes(twin, later):
    payment_id = new_payment()
    notify(twin, payment_id)
    notify(twin, payment_id, later)
    assert status_of(twin, payment_id) == "succeeded"


@pytest.mark.parametrize("earlier", ["REFUSED", "ABANDONED", "EXPIRED"])
def test_a_later_success_wins_over_a_failure(twin, earlier):
    payment_id = new_payment()
    notify(twin, payment_id, earlier)
    assert status_of(twin, payment_id) != "created"
    notify(twin, payment_id)
    assert status_of(twin, payment_id) == "succeeded"
    assert len(twin.outbox.sent) == 1


def test_a_failure_is_final_against_another_failure_and_non_final_statuses_change_nothing(twin):
    refused, pending = new_payment(), new_payment(30000)
    notify(twin, refused, "REFUSED")
    notify(twin, refused, "ABANDONED")
    assert status_of(twin, refused) == "refused"
    notify(twin, pending, "WAITING_AUTHORISATION")
    assert status_of(twin, pending) == "created"
    assert twin.outbox.sent == []


def test_a_notification_not_about_this_payment_is_rejected(twin):
    payment_id, other = new_payment(), new_payment(30000)
    body = notification(twin, payment_id).replace(payment_id.encode(), other.encode())
    with pytest.raises(errors.ApiError) as rejected:
        notifications.handle_notification("sandbox", body)
    assert rejected.value.status == 400
    assert status_of(twin, payment_id) == status_of(twin, other) == "created"


# ---------------------------------------------------------------- fulfilment, once
def test_a_success_lists_one_receipt_and_sends_one_email(twin):
    payment_id = new_payment()
    for _ in range(3):
        notify(twin, payment_id)
    paid = twin.payments.get(NUMBER, payment_id)
    assert paid.fulfilled_at and paid.receipt_doc_id == f"payment-{payment_id}"
    [document] = twin.documents.list(NUMBER)
    assert (document.type, document.title, document.issued_on) == (
        PAYMENT_RECEIPT,
        "Reçu de paiement — 220,00 €",
        clock.paris_date(paid.paid_at),
    )
    assert twin.documents.pdfs[document.s3_key].startswith(b"%PDF-")
    [mail] = twin.outbox.to(JEAN.email)
    assert mail.subject == "Confirmation de votre paiement de 220,00 €"
    assert [a.filename for a in mail.attachments] == [f"recu-paiement-{payment_id}.pdf"]
    assert twin.payments.leases == {}


def test_a_failed_fulfilment_releases_the_lease_and_the_retry_completes_it_once(twin):
    from oph.platform.mail import mailer

    class Down:
        def send(self, email):
            raise errors.ServiceUnavailable(retry_after=30)

    payment_id = new_payment()
    with mailer.override(Down()), pytest.raises(errors.ServiceUnavailable):
        notify(twin, payment_id)
    state = twin.payments.get(NUMBER, payment_id)
    assert state.status == "succeeded" and state.fulfilled_at is None
    assert twin.payments.leases == {}
    notify(twin, payment_id)
    notify(twin, payment_id)
    assert len(twin.outbox.sent) == 1


def test_a_fresh_lease_held_by_another_worker_is_respected(twin):
    payment_id = new_payment()
    twin.payments.leases[(NUMBER, payment_id)] = int(clock.now_ts())  # someone else is on it
    notify(twin, payment_id)
    assert status_of(twin, payment_id) == "succeeded" and twin.outbox.sent == []
    clock.set_offset(121)  # the lease went stale: its holder died without releasing it
    notify(twin, payment_id)
    assert len(twin.outbox.sent) == 1


def test_the_sandbox_notifies_before_sending_the_buyer_back(twin):
    payment_id = new_payment()
    payment = twin.payments.find(payment_id)
    form = get_gateway("sandbox").checkout_form(checkout.gateway_payment(payment), checkout.return_url(payment_id))
    back = sandbox.sandbox_submit({**form.fields, "card_number": "4970 1000 0000 0014"})
    assert back.endswith(f"/links/payment-return?payment_id={payment_id}")
    assert status_of(twin, payment_id) == "refused"
    with pytest.raises(sandbox.UnknownTestCard):
        sandbox.sandbox_submit({**form.fields, "card_number": "1234"})


# ---------------------------------------------------------------- expiry
def test_expiry_touches_only_created_payments_past_the_delay(twin):
    old, paid = new_payment(), new_payment(10000)
    notify(twin, paid)
    clock.set_offset(30 * 60)
    recent = new_payment(30000)
    clock.set_offset(61 * 60)
    assert jobs.expire_payments() == 1
    assert [status_of(twin, p) for p in (old, paid, recent)] == ["expired", "succeeded", "created"]
    assert jobs.expire_payments() == 0
    clock.set_offset(91 * 60)
    assert jobs.expire_payments() == 1
    assert status_of(twin, recent) == "expired"
    notify(twin, old)  # the card was debited after all: the success still wins
    assert status_of(twin, old) == "succeeded"


def test_the_expiry_job_reads_only_what_can_still_expire(twin):
    """Issue 18: every 15 minutes the job used to re-read 8 days of payments and rewrite the
    settled ones; now it reads the open ones past the delay, once, and writes their expiry."""
    settled = [new_payment(1000 + n) for n in range(8)]  # (10 creations an hour per account)
    for payment_id in settled:
        notify(twin, payment_id)
    abandoned = new_payment(5000)
    clock.set_offset(61 * 60)
    expire_calls = []
    original = twin.payments.expire
    twin.payments.expire = lambda *a, **k: expire_calls.append(a) or original(*a, **k)  # type: ignore[method-assign]
    assert jobs.expire_payments() == 1
    assert twin.payments.open_reads == 1 and [call[1] for call in expire_calls] == [abandoned]
    clock.set_offset(76 * 60)
    assert jobs.expire_payments() == 0
    assert twin.payments.open_reads == 1 and len(expire_calls) == 1  # nothing left to read or write


def test_an_expired_payment_has_no_checkout(twin):
    _, answer = create()
    clock.set_offset(60 * 60)
    query = dict(p.split("=", 1) for p in answer["checkout_url"].split("?", 1)[1].split("&"))
    view = checkout.checkout(query["payment_id"], query["sig"])
    assert view.expired and view.fields is None
    with pytest.raises(errors.NotFound):
        checkout.checkout(query["payment_id"], query["sig"][:-2] + "AA")


# ---------------------------------------------------------------- balance and pending
def _notice(period: str, issued_on: str, due_cents: int, due_date: str | None = None) -> Document:
    return Document(
        doc_id=f"n-{period}",
        tenant_number=NUMBER,
        type=NOTICE,
        title=f"Avis d'échéance — {period}",
        issued_on=issued_on,
        s3_key=f"tenants/{NUMBER}/notices/{period}.pdf",
        filename=f"avis-echeance-{period}.pdf",
        period=period,
        due_date=due_date or issued_on,
        amount_due_cents=due_cents,
        extra={"lines": [{"label": "Loyer", "category": "rent", "amount_cents": due_cents}]},
    )


def _paid(twin: PaymentsTwin, amount: int, at: str) -> str:
    """A payment that succeeded at the instant ``at`` (the clock is moved there)."""
    clock.set_offset(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() - time.time())
    payment_id = new_payment(amount)
    notify(twin, payment_id)
    return payment_id


def test_pending_counts_successes_after_the_balance_date_in_paris_time(twin):
    twin.documents.put(_notice("2019-04", "2019-04-24", 21000, "2019-05-10"))
    twin.documents.put(_notice("2019-05", "2019-05-24", 22000, "2019-06-10"))
    _paid(twin, 1000, "2019-05-23T12:00:00Z")  # on the balance date: already in the balance
    _paid(twin, 22000, "2019-05-23T22:30:00Z")  # the 24th in Paris
    _paid(twin, 5000, "2019-06-01T08:00:00Z")
    refused = new_payment(9000)
    notify(twin, refused, "REFUSED")
    new_payment(7000)  # created, not paid
    assert balance.get_balance(NUMBER) == {
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
        "pending_cents": 27000,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 61068 + 22000 - 27000,
    }


def test_a_tenancy_without_balance_or_notices(twin):
    assert balance.get_balance("999999") == {
        "balance_cents": 0,
        "balance_date": None,
        "pending_cents": 0,
        "amount_due_cents": 0,
        "due_date": None,
        "amount_to_pay_cents": 0,
    }


# ---------------------------------------------------------------- quittances: oldest debt first
def test_the_contracts_example_older_debt_first_then_the_quittance(twin):
    # 610,68 € owed on 2019-05-23; the 220,00 € May notice issued on the 24th.
    twin.documents.put(_notice("2019-05", "2019-05-24", 22000, "2019-06-10"))
    assert balance.get_balance(NUMBER)["amount_to_pay_cents"] == 83068
    _paid(twin, 22000, "2019-05-28T08:00:00Z")
    with pytest.raises(errors.ValidationFailed) as unpaid:
        receipts.create_receipt(NUMBER, "2019-05", JEAN)
    assert [(e.field, e.code) for e in unpaid.value.errors] == [("period", "period_unpaid")]
    assert unpaid.value.errors[0].message == receipts.PAID_OLDER_DEBT
    assert balance.get_balance(NUMBER)["amount_to_pay_cents"] == 61068
    _paid(twin, 50000, "2019-05-29T08:00:00Z")
    recu, created = receipts.create_receipt(NUMBER, "2019-05")
    assert created and recu.title == "Reçu — mai 2019" and recu.amount_cents == 72000 - 61068
    _paid(twin, 11068, "2019-05-30T08:00:00Z")  # 830,68 € in all
    quittance, created = receipts.create_receipt(NUMBER, "2019-05", JEAN)
    assert created and quittance.title == "Quittance de loyer — mai 2019" and quittance.amount_cents == 22000
    assert receipts.create_receipt(NUMBER, "2019-05") == (quittance, False)
    assert balance.get_balance(NUMBER)["amount_to_pay_cents"] == 0
    with pytest.raises(errors.NotFound):
        receipts.create_receipt(NUMBER, "2019-07")


def test_nothing_paid_keeps_the_plain_message(twin):
    twin.documents.put(_notice("2019-05", "2019-05-24", 22000))
    with pytest.raises(errors.ValidationFailed) as unpaid:
        receipts.create_receipt(NUMBER, "2019-05")
    assert unpaid.value.errors[0].message == errors.FIELD_MESSAGES["period_unpaid"]


def test_payments_settle_the_oldest_notice_first(twin):
    # A balance of 0 at 2019-04-01: the three notices after it are the whole debt.
    twin.tenancy.tenancies[NUMBER] = replace(twin.tenancy.tenancies[NUMBER], balance_cents=0, balance_date="2019-04-01")
    twin.documents.put(_notice("2019-04", "2019-04-24", 20000))
    twin.documents.put(_notice("2019-05", "2019-05-24", 22000))
    twin.documents.put(_notice("2019-06", "2019-06-24", 22000))
    _paid(twin, 25000, "2019-06-01T08:00:00Z")
    with pytest.raises(errors.ValidationFailed):
        receipts.create_receipt(NUMBER, "2019-06")
    april, created = receipts.create_receipt(NUMBER, "2019-04", JEAN)
    assert created and april.title == "Quittance de loyer — avril 2019" and april.amount_cents == 20000
    may, created = receipts.create_receipt(NUMBER, "2019-05")
    assert created and may.title == "Reçu — mai 2019" and may.amount_cents == 5000
    assert receipts.create_receipt(NUMBER, "2019-05") == (may, False)
    _paid(twin, 17000, "2019-06-02T08:00:00Z")
    quittance, created = receipts.create_receipt(NUMBER, "2019-05")
    assert created and quittance.title == "Quittance de loyer — mai 2019" and quittance.doc_id != may.doc_id


def test_a_quittance_of_an_earlier_rule_stays_listed_and_no_new_one_is_made(twin):
    twin.documents.put(_notice("2019-05", "2019-05-24", 22000))
    _paid(twin, 22000, "2019-05-28T08:00:00Z")
    # what the previous rule issued: a quittance for May while 610,68 € of older rent was owed
    earlier = replace(
        receipts.receipt_document(twin.payments.snapshot(NUMBER), "2019-05", _paid_in_full("2019-05")),
        doc_id=receipts.receipt_doc_id(NUMBER, "2019-05", "quittance", 22000),
    )
    twin.documents.put(earlier)
    with pytest.raises(errors.ValidationFailed):
        receipts.create_receipt(NUMBER, "2019-05")
    assert earlier.doc_id in {d.doc_id for d in twin.documents.list(NUMBER)}
    _paid(twin, 61068, "2019-05-29T08:00:00Z")
    assert receipts.create_receipt(NUMBER, "2019-05") == (earlier, False)  # paid now: the same one


def _paid_in_full(period: str) -> Settlement:
    notice = _notice(period, "2019-05-24", 22000)
    return Settlement(notice, 22000, 22000, PAID)


# ---------------------------------------------------------------- movements, reconciliation, statement
def test_a_payment_the_office_exported_is_reconciled_and_counted_once(twin):
    twin.documents.put(_notice("2019-05", "2019-05-24", 22000, "2019-06-10"))
    twin.tenancy.put_movements(
        [
            Movement(NUMBER, "2019-01-01", "Report à nouveau", 39068, "M-1"),
            Movement(NUMBER, "2019-05-23", "Loyer avril 2019", 22000, "M-2"),
        ]
    )
    payment_id = _paid(twin, 22000, "2019-05-28T08:00:00Z")
    assert balance.get_balance(NUMBER) == {
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
        "pending_cents": 22000,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 61068,
    }
    twin.tenancy.put_movements([Movement(NUMBER, "2019-05-30", "Paiement CB", -22000, payment_id)])
    assert balance.get_balance(NUMBER) == {
        "balance_cents": 39068,
        "balance_date": "2019-05-30",
        "pending_cents": 0,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 39068,  # May (issued before the 30th) is in the balance now
    }
    clock.set_offset(datetime.fromisoformat("2019-05-31T10:00:00+00:00").timestamp() - time.time())
    body = statement.statement(NUMBER, "2019-05-01", None).as_api()
    assert body["to"] == "2019-05-31"
    assert [(i["reference"], i["source"], i["balance_cents"]) for i in body["items"]] == [
        ("M-2", "office", 61068),
        (payment_id, "office", 39068),
    ]
    assert (body["opening_balance_cents"], body["closing_balance_cents"], body["amount_to_pay_cents"]) == (
        39068,
        39068,
        39068,
    )


def test_the_statement_shows_an_unreconciled_payment_once(twin):
    payment_id = _paid(twin, 22000, "2019-05-28T08:00:00Z")
    clock.set_offset(datetime.fromisoformat("2019-05-31T10:00:00+00:00").timestamp() - time.time())
    body = statement.statement(NUMBER, None, None).as_api()
    assert (body["from"], body["to"]) == ("2018-06-01", "2019-05-31")
    assert body["items"] == [
        {
            "date": "2019-05-23",
            "label": "Solde au 23/05/2019",
            "amount_cents": 61068,
            "balance_cents": 61068,
            "source": "office",
            "reference": "",
        },
        {
            "date": "2019-05-28",
            "label": "Paiement en ligne",
            "amount_cents": -22000,
            "balance_cents": 39068,
            "source": "online",
            "reference": payment_id,
        },
    ]
    assert (body["opening_balance_cents"], body["closing_balance_cents"], body["amount_to_pay_cents"]) == (
        0,
        39068,
        39068,
    )


def test_the_statement_range_is_checked_before_anything_is_read(twin):
    with pytest.raises(errors.ValidationFailed) as failed:
        statement.statement(NUMBER, "2016-01-01", "2019-05-31")
    assert [(e.field, e.code) for e in failed.value.errors] == [("from", "range_too_long")]
    assert failed.value.errors[0].message == errors.FIELD_MESSAGES["range_too_long"]


# ---------------------------------------------------------------- the daily export
def test_the_export_lists_the_days_successes_in_paris_time(twin):
    first = _paid(twin, 22000, "2024-06-12T22:30:00Z")  # the 13th in Paris
    _paid(twin, 123456, "2024-06-13T09:00:00Z")
    new_payment(5000)
    body, rows = jobs.export_csv("2024-06-13")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert rows == 2 and lines[0].startswith("date_paiement;heure_paiement;")
    assert lines[1].split(";")[:4] == ["13/06/2024", "00:30:00", NUMBER, first]
    assert lines[2].split(";")[6:] == ["1234,56", "123456", "EUR", "sandbox"]
    assert jobs.export_payments("2024-06-13") == {"key": "exports/payments/2024-06-13.csv", "rows": 2}
    assert twin.payments.exports["exports/payments/2024-06-13.csv"] == body
