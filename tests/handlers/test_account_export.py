"""GET /v1/account/export: everything held about the caller, nothing about anyone else."""

from __future__ import annotations

import json

import pytest

from oph.documents.model import Document, tenant_prefix
from oph.documents.store import DocumentStore
from oph.payments.model import Payment
from oph.payments.store import PaymentStore
from oph.tenancy.model import Holder
from oph.tenancy.store import TenancyStore
from tests.factories import PASSWORD, Tenant, log_in, make_account, make_tenant


def _document(tenant_number, doc_id, kind="notice", **extra):
    document = Document(
        doc_id=doc_id,
        tenant_number=tenant_number,
        type=kind,
        title=f"Document {doc_id}",
        issued_on="2019-05-24",
        s3_key=tenant_prefix(tenant_number) + f"{doc_id}.pdf",
        filename=f"{doc_id}.pdf",
        period=None if kind == "payment_receipt" else "2019-05",
        due_date="2019-06-10" if kind == "notice" else None,
        amount_due_cents=22000 if kind == "notice" else None,
        amount_cents=None if kind == "notice" else 22000,
        extra=extra or None,
    )
    DocumentStore().put(document)
    return document


def _payment(tenant_number, account_id, payment_id, amount=22000):
    payment = Payment(
        payment_id=payment_id,
        tenant_number=tenant_number,
        account_id=account_id,
        amount_cents=amount,
        status="succeeded",
        created_at="2019-05-30T10:00:00Z",
        provider="sandbox",
        site_id="12345678",
        ctx_mode="TEST",
        trans_id="000123",
        trans_date="20190530100000",
        paid_at="2019-05-30T10:01:00Z",
        receipt_doc_id=f"receipt-{payment_id}",
    )
    PaymentStore().put(payment)
    return payment


@pytest.fixture
def world(runtime):
    """The caller, a co-holder of the same tenancy, and another tenant, each with data."""
    mine = make_tenant(last_name="MARTIN", first_name="Sophie", birth_date="1980-02-29")
    me = make_account(mine, "sophie@exemple.com")
    co_holder = Holder(mine.holder.tenant_number, "BERNARDIN", "Paulo", "1977-07-07")
    TenancyStore().put_holder(co_holder)
    co = make_account(Tenant(co_holder, mine.tenancy), "paulo.coholder@exemple.com")
    other = make_tenant(last_name="ZORGLUB", first_name="Xavier", birth_date="1966-06-06")
    stranger = make_account(other, "xavier.zorglub@exemple.com")

    n = mine.holder.tenant_number
    _document(n, "my-notice")
    _payment(n, me.account_id, "my-payment")
    _document(n, "receipt-my-payment", "payment_receipt", payment_id="my-payment")
    _payment(n, co.account_id, "co-payment", amount=11111)
    _document(n, "receipt-co-payment", "payment_receipt", payment_id="co-payment")
    _document(other.holder.tenant_number, "their-notice")
    _payment(other.holder.tenant_number, stranger.account_id, "their-payment", amount=99999)
    return {"tenant": mine, "me": me, "co": co, "co_holder": co_holder, "other": other, "stranger": stranger}


def _export(client, account):
    reply = client.get("/v1/account/export", token=log_in(account).access_token)
    assert reply.status == 200, reply.text
    return reply


def test_export_is_a_json_attachment(client, world):
    reply = _export(client, world["me"])
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    assert reply.header("Content-Disposition") == 'attachment; filename="mes-donnees.json"'
    assert reply.header("Cache-Control") == "no-store"
    json.loads(reply.text)


def test_export_holds_everything_about_the_caller(client, world):
    me, tenant = world["me"], world["tenant"]
    client.put("/v1/account/preferences", {"receipts_by_email": True}, token=log_in(me).access_token)
    body = _export(client, me).json()

    account = body["account"]
    assert account["account_id"] == me.account_id
    assert account["email"] == "sophie@exemple.com"
    assert account["created_at"] == me.created_at
    assert account["terms_accepted_at"] == me.terms_accepted_at
    assert account["status"] == "active"
    assert "password_hash" not in account
    assert body["holder"] == {
        "tenant_number": tenant.holder.tenant_number,
        "last_name": "MARTIN",
        "first_name": "Sophie",
        "birth_date": "1980-02-29",
    }
    assert body["tenancy"]["contract_number"] == tenant.tenancy.contract_number
    assert body["tenancy"]["address"] == {"line1": "12 Rue du Moutier", "postal_code": "93300", "city": "AUBERVILLIERS"}
    assert body["preferences"]["receipts_by_email"] is True
    assert body["preferences"]["changed_at"]["receipts_by_email"]
    consents = {c["type"]: c for c in body["consents"]}
    assert consents["terms_of_use"]["accepted_at"] == me.terms_accepted_at
    assert consents["terms_of_use"]["version"] == "2024-01"
    assert consents["receipts_by_email"]["given"] is True
    assert consents["receipts_by_email"]["changed_at"] == body["preferences"]["changed_at"]["receipts_by_email"]
    assert {d["id"] for d in body["documents"]} == {"my-notice", "receipt-my-payment"}
    [payment] = body["payments"]
    assert (payment["payment_id"], payment["amount_cents"], payment["status"]) == ("my-payment", 22000, "succeeded")


def test_nothing_of_another_tenant_or_co_holder_appears(client, world):
    text = _export(client, world["me"]).text
    other, stranger, co, co_holder = world["other"], world["stranger"], world["co"], world["co_holder"]
    for secret in (
        other.holder.tenant_number,
        other.tenancy.contract_number,
        "ZORGLUB",
        "Xavier",
        "1966-06-06",
        stranger.email,
        stranger.account_id,
        "their-notice",
        "their-payment",
        "99999",
        # the co-holder's own data
        co.email,
        co.account_id,
        co_holder.first_name,
        co_holder.last_name,
        co_holder.birth_date,
        "co-payment",
        "11111",
    ):
        assert secret not in text, secret


def test_nothing_secret_appears(client, world):
    me = world["me"]
    login = log_in(me)
    client.post(
        "/v1/account/email",
        {"new_email": "nouvelle@exemple.com", "current_password": PASSWORD},
        token=login.access_token,
    )
    text = _export(client, me).text
    assert me.password_hash not in text
    assert "password" not in text
    assert "session_generation" not in text
    assert login.access_token not in text
    body = json.loads(text)
    assert body["account"]["pending_email"] == "nouvelle@exemple.com"


def test_export_of_a_tenant_without_documents_or_payments(client, runtime):
    account = make_account(make_tenant())
    body = _export(client, account).json()
    assert body["documents"] == [] and body["payments"] == []
    assert set(body) >= {"account", "holder", "tenancy", "preferences", "consents", "documents", "payments"}


def test_export_requires_authentication(client, runtime):
    reply = client.get("/v1/account/export")
    assert reply.status == 401
    assert reply.json()["code"] == "unauthorized"


def test_the_exported_balance_is_the_balance_the_app_shows(client, world):
    # One function computes every figure a tenant sees: the export does not recompute it.
    me = world["me"]
    token = log_in(me).access_token
    shown = client.get("/v1/payments/balance", token=token).json()
    assert _export(client, me).json()["tenancy"]["balance"] == shown
