"""GET /v1/payments/balance, and the scheduled jobs: expiry and the daily accounting export."""

from __future__ import annotations

import csv
import io
import uuid

from oph.platform import clock
from tests.handlers import test_payments_support as support
from tests.handlers.test_payments_support import genuine_notification, new_payment, notify, stored

payer = support.payer


def _notice(tenant_number, period, issued_on, due_date, amount_due_cents):
    from oph.documents.model import NOTICE, Document, tenant_prefix
    from oph.documents.store import DocumentStore

    DocumentStore().put(
        Document(
            doc_id=uuid.uuid4().hex,
            tenant_number=tenant_number,
            type=NOTICE,
            title=f"Avis d'échéance — {period}",
            issued_on=issued_on,
            s3_key=f"{tenant_prefix(tenant_number)}notices/{period}.pdf",
            filename=f"avis-echeance-{period}.pdf",
            period=period,
            due_date=due_date,
            amount_due_cents=amount_due_cents,
        )
    )


def _pay(client, login, amount):
    payment = new_payment(client, login, amount)
    assert notify(client, genuine_notification(payment["id"])).status == 200
    return payment


def test_balance_without_notices(client, payer):
    _, login = payer
    reply = client.get("/v1/payments/balance", token=login.access_token)
    assert reply.status == 200
    assert reply.json() == {
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
        "pending_cents": 0,
        "amount_due_cents": 0,
        "due_date": None,
        "amount_to_pay_cents": 61068,
    }


def test_balance_with_notices_and_payments(client, payer):
    tenant, login = payer
    number = tenant.holder.tenant_number
    _notice(number, "2019-04", "2019-04-24", "2019-05-10", 21000)
    _notice(number, "2019-05", "2019-05-24", "2019-06-10", 22000)
    _pay(client, login, 22000)
    _pay(client, login, 5000)
    new_payment(client, login, 7000)  # created, not paid
    refused = new_payment(client, login, 9000)
    notify(client, genuine_notification(refused["id"], "REFUSED"))
    body = client.get("/v1/payments/balance", token=login.access_token).json()
    assert body == {
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
        "pending_cents": 27000,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 61068 + 22000 - 27000,  # April is in the balance, May is not
    }


def test_payments_before_the_imported_balance_are_not_pending(client, payer):
    from oph.tenancy.store import TenancyStore

    tenant, login = payer
    _pay(client, login, 22000)
    # a newer import (dated today in Paris, after the payment) already includes it
    today = clock.now().date().isoformat()
    TenancyStore().set_balance(tenant.holder.tenant_number, 39068, today, source="tenants")
    body = client.get("/v1/payments/balance", token=login.access_token).json()
    assert body["balance_cents"] == 39068
    assert body["balance_date"] == today
    assert body["pending_cents"] == 0


def test_balance_is_the_tenancys(client, payer):
    tenant, login = payer
    co_holder = support.co_holder_login(tenant)
    _pay(client, login, 22000)
    assert client.get("/v1/payments/balance", token=co_holder.access_token).json()["pending_cents"] == 22000
    stranger = support.tenant_with_login()[1]
    assert client.get("/v1/payments/balance", token=stranger.access_token).json()["pending_cents"] == 0


# ---------------------------------------------------------------- jobs
def _job(runtime, event):
    return runtime.invoke("PaymentJobsFunction", event)


def test_expiry_job(client, payer, runtime, clock_offset):
    _, login = payer
    old = new_payment(client, login)
    paid = _pay(client, login, 10000)
    refused = new_payment(client, login)
    notify(client, genuine_notification(refused["id"], "REFUSED"))
    clock_offset(30 * 60)
    login = support.log_in(login.account)
    recent = new_payment(client, login)
    clock_offset(61 * 60)  # `old` is 61 minutes old, `recent` 31

    assert _job(runtime, {"job": "expire_payments"}) == {"job": "expire_payments", "expired": 1, "written": []}
    assert stored(old["id"]).status == "expired"
    assert stored(recent["id"]).status == "created"
    assert stored(paid["id"]).status == "succeeded"
    assert stored(refused["id"]).status == "refused"
    assert _job(runtime, {"job": "expire_payments"})["expired"] == 0  # idempotent

    clock_offset(95 * 60)
    assert _job(runtime, {"job": "expire_payments"})["expired"] == 1
    assert stored(recent["id"]).status == "expired"
    login = support.log_in(login.account)
    listed = {p["id"]: p["status"] for p in client.get("/v1/payments", token=login.access_token).json()["items"]}
    assert listed[old["id"]] == "expired"


def test_expired_payment_cannot_be_checked_out(client, payer, runtime, clock_offset):
    _, login = payer
    payment = new_payment(client, login)
    clock_offset(2 * 3600)
    _job(runtime, {"job": "expire_payments"})
    path, query = support.path_and_query(payment["checkout_url"])
    reply = client.get(path, query=query)
    assert reply.status == 410
    assert "vads_" not in reply.text


def _export(runtime, day=None):
    event = {"job": "export_payments"}
    if day:
        event["date"] = day
    return _job(runtime, event)


def _read_export(aws, day):
    from oph.platform import aws as oph_aws

    return oph_aws.s3().get_object(Bucket=aws.bucket, Key=f"exports/payments/{day}.csv")["Body"].read()


def test_daily_export(client, payer, runtime, aws, clock_offset):
    from oph.platform.clock import paris_date as paris_day

    tenant, login = payer
    first = _pay(client, login, 22000)
    second = _pay(client, login, 123456)
    new_payment(client, login, 5000)  # not paid: not exported
    day = paris_day(stored(first["id"]).paid_at)

    result = _export(runtime, day)
    key = f"exports/payments/{day}.csv"
    assert result == {"job": "export_payments", "key": key, "rows": 2, "written": [key]}
    raw = _read_export(aws, day)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheet software
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "date_paiement",
        "heure_paiement",
        "numero_intitule",
        "reference_paiement",
        "id_transaction",
        "date_transaction",
        "montant",
        "montant_centimes",
        "devise",
        "prestataire",
    ]
    assert len(rows) == 3
    by_ref = {r[3]: r for r in rows[1:]}
    row = by_ref[first["id"]]
    record = stored(first["id"])
    assert row[2] == tenant.holder.tenant_number
    assert row[4] == record.trans_id
    assert row[6] == "220,00"
    assert row[7] == "22000"
    assert row[8] == "EUR"
    assert row[9] == "sandbox"
    assert row[0] == "/".join(reversed(day.split("-")))
    assert by_ref[second["id"]][6] == "1234,56"

    # idempotent: the same content when run again
    assert _export(runtime, day)["rows"] == 2
    assert _read_export(aws, day) == raw


def test_default_export_day_is_yesterday_in_paris(client, payer, runtime, aws, clock_offset):
    from oph.platform.clock import paris_date as paris_day

    _, login = payer
    payment = _pay(client, login, 22000)
    day = paris_day(stored(payment["id"]).paid_at)
    clock_offset(24 * 3600)  # the next day, when the schedule runs
    result = _export(runtime)
    assert result["key"] == f"exports/payments/{day}.csv"
    assert result["rows"] == 1
    # a day without payments still gets its file (header only)
    empty = _export(runtime, "2001-01-01")
    assert empty["rows"] == 0
    assert _read_export(aws, "2001-01-01").decode("utf-8-sig").startswith("date_paiement;")


def test_jobs_refuse_unknown_input(runtime):
    import pytest

    for event in (
        {"job": "nope"},
        {},
        {"job": "export_payments", "date": "2024-13-45"},
        {"job": "export_payments", "date": 5},
    ):
        with pytest.raises(ValueError):
            _job(runtime, event)
