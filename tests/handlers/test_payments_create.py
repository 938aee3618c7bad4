"""POST /v1/payments: amount bounds, Idempotency-Key, the checkout link; reading payments."""

from __future__ import annotations

import re

import pytest

from tests.factories import log_in, tenant_with_login
from tests.handlers import test_payments_support as support
from tests.handlers.test_payments_support import (
    co_holder_login,
    create,
    genuine_notification,
    new_payment,
    notify,
    query_of,
)

payer = support.payer
in_process_sandbox = support.in_process_sandbox


def _field_errors(reply):
    assert reply.status == 422, reply.text
    body = reply.json()
    assert body["code"] == "validation_error"
    assert body["title"] == "Certains champs sont invalides."
    return {e["field"]: e["code"] for e in body["errors"]}


def test_created_payment_body(client, payer):
    _, login = payer
    reply = create(client, login, 22000, key="9a1f4c1e-0000-4000-8000-000000000001")
    assert reply.status == 201, reply.text
    assert reply.header("Content-Type").startswith("application/json")
    body = reply.json()
    assert set(body) == {"id", "status", "amount_cents", "checkout_url"}
    assert body["status"] == "created"
    assert body["amount_cents"] == 22000
    assert body["checkout_url"].startswith("https://app.test/links/checkout?")
    query = query_of(body["checkout_url"])
    assert query["payment_id"] == body["id"]
    assert len(query["sig"]) >= 40


def test_same_key_same_body_replays_the_same_answer(client, payer):
    _, login = payer
    first = create(client, login, 22000, key="same-key")
    again = create(client, login, 22000, key="same-key")
    assert first.status == 201
    assert again.status == 200
    assert again.json() == first.json()
    listed = client.get("/v1/payments", token=login.access_token).json()["items"]
    assert [p["id"] for p in listed] == [first.json()["id"]]


def test_same_key_other_body_is_409(client, payer):
    _, login = payer
    assert create(client, login, 22000, key="k-409").status == 201
    reply = create(client, login, 22100, key="k-409")
    assert reply.status == 409
    body = reply.json()
    assert body["code"] == "idempotency_conflict"
    assert body["title"] == "Cette clé d'idempotence a déjà servi pour une requête différente."
    assert len(client.get("/v1/payments", token=login.access_token).json()["items"]) == 1


def test_keys_are_scoped_to_the_account(client, payer):
    tenant, login = payer
    co_holder = co_holder_login(tenant)
    stranger = tenant_with_login()[1]
    first = create(client, login, 22000, key="shared-key")
    second = create(client, co_holder, 22000, key="shared-key")
    third = create(client, stranger, 22000, key="shared-key")
    assert (first.status, second.status, third.status) == (201, 201, 201)
    assert len({first.json()["id"], second.json()["id"], third.json()["id"]}) == 3


def test_keys_are_kept_24_hours(client, payer, clock_offset):
    _, login = payer
    first = create(client, login, 22000, key="day-key")
    clock_offset(23 * 3600)
    login = log_in(login.account)  # access tokens last 15 minutes
    assert create(client, login, 22000, key="day-key").json()["id"] == first.json()["id"]
    assert create(client, login, 30000, key="day-key").status == 409
    clock_offset(24 * 3600 + 60)
    login = log_in(login.account)
    later = create(client, login, 30000, key="day-key")
    assert later.status == 201
    assert later.json()["id"] != first.json()["id"]


def test_replay_after_payment_succeeded_is_still_the_first_answer(client, payer, in_process_sandbox):
    _, login = payer
    first = create(client, login, 22000, key="paid-key")
    assert notify(client, genuine_notification(first.json()["id"])).status == 200
    again = create(client, login, 22000, key="paid-key")
    assert again.status == 200
    assert again.json() == first.json()


def test_missing_idempotency_key_is_422_required(client, payer):
    _, login = payer
    reply = client.post("/v1/payments", {"amount_cents": 22000}, token=login.access_token)
    errors = _field_errors(reply)
    assert errors == {"Idempotency-Key": "required"}
    message = reply.json()["errors"][0]["message"]
    assert message == "Ce champ est obligatoire."


@pytest.mark.parametrize(
    ("amount", "status"), [(100, 201), (1_000_000, 201), (99, 422), (1_000_001, 422), (0, 422), (-22000, 422)]
)
def test_amount_bounds(client, payer, amount, status):
    _, login = payer
    reply = create(client, login, amount)
    assert reply.status == status, reply.text
    if status == 422:
        assert _field_errors(reply) == {"amount_cents": "amount_out_of_range"}
        assert reply.json()["errors"][0]["message"] == "Le montant doit être compris entre 1,00 € et 10 000,00 €."


@pytest.mark.parametrize("amount", ["22000", 220.5, 22000.0, True, None, [22000], {"v": 1}])
def test_amount_must_be_an_integer(client, payer, amount):
    _, login = payer
    reply = client.post(
        "/v1/payments", {"amount_cents": amount}, token=login.access_token, headers={"Idempotency-Key": "fmt"}
    )
    assert _field_errors(reply) == {"amount_cents": "invalid_format"}


def test_missing_amount_and_key_are_both_listed(client, payer):
    _, login = payer
    reply = client.post("/v1/payments", {}, token=login.access_token)
    assert _field_errors(reply) == {"amount_cents": "required", "Idempotency-Key": "required"}


def test_unknown_field_is_listed(client, payer):
    _, login = payer
    reply = client.post(
        "/v1/payments",
        {"amount_cents": 22000, "currency": "EUR"},
        token=login.access_token,
        headers={"Idempotency-Key": "x"},
    )
    assert _field_errors(reply) == {"currency": "unknown_field"}


def test_overlong_key_is_invalid_format(client, payer):
    _, login = payer
    reply = create(client, login, 22000, key="k" * 300)
    assert _field_errors(reply) == {"Idempotency-Key": "invalid_format"}


def test_authentication_comes_first(client, runtime):
    reply = client.post("/v1/payments", {"amount_cents": 1}, headers={"Idempotency-Key": "x"})
    assert reply.status == 401
    assert reply.json()["code"] == "unauthorized"
    for path in ("/v1/payments", "/v1/payments/balance", "/v1/payments/abc"):
        assert client.get(path).status == 401


def test_each_payment_gets_its_own_transaction_id(client, payer):
    from tests.handlers.test_payments_support import stored

    _, login = payer
    ids = [new_payment(client, login)["id"] for _ in range(3)]
    trans = [stored(i).trans_id for i in ids]
    assert len(set(trans)) == 3
    assert all(re.fullmatch(r"[0-8]\d{5}", t) for t in trans)
    assert all(re.fullmatch(r"\d{14}", stored(i).trans_date) for i in ids)


def test_list_and_get(client, payer, clock_offset):
    _, login = payer
    first = new_payment(client, login, 10000)
    clock_offset(60)
    second = new_payment(client, login, 20000)
    items = client.get("/v1/payments", token=login.access_token).json()["items"]
    assert [p["id"] for p in items] == [second["id"], first["id"]]  # newest first
    assert set(items[0]) == {"id", "amount_cents", "status", "created_at", "paid_at"}
    assert items[0]["paid_at"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", items[0]["created_at"])
    one = client.get(f"/v1/payments/{first['id']}", token=login.access_token)
    assert one.status == 200
    assert one.json() == items[1]


def test_another_tenants_payment_is_404(client, payer):
    _, login = payer
    payment = new_payment(client, login)
    stranger = tenant_with_login()[1]
    reply = client.get(f"/v1/payments/{payment['id']}", token=stranger.access_token)
    assert reply.status == 404
    assert reply.json()["code"] == "not_found"
    assert reply.json()["title"] == "Ressource introuvable."
    assert client.get("/v1/payments", token=stranger.access_token).json() == {"items": []}


@pytest.mark.parametrize("bad_id", ["nope", "x" * 300, "..%2F..", "ÉÉÉ"])
def test_unknown_or_odd_ids_are_404(client, payer, bad_id):
    _, login = payer
    assert client.get(f"/v1/payments/{bad_id}", token=login.access_token).status == 404


def test_co_holders_share_the_tenancys_payments(client, payer):
    tenant, login = payer
    co_holder = co_holder_login(tenant)
    payment = new_payment(client, login)
    assert client.get(f"/v1/payments/{payment['id']}", token=co_holder.access_token).status == 200


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_idempotency_key_counts_as_missing(client, payer, blank):
    _, login = payer
    reply = client.post(
        "/v1/payments", {"amount_cents": 22000}, token=login.access_token, headers={"Idempotency-Key": blank}
    )
    assert _field_errors(reply) == {"Idempotency-Key": "required"}
    assert client.get("/v1/payments", token=login.access_token).json() == {"items": []}


def test_at_most_ten_payments_per_account_per_hour(client, payer, clock_offset):
    # Security revision 4: 40 payments in 3 s were all 201. Now 10 per rolling hour.
    _, login = payer
    keys = [f"9a1f4c1e-0000-4000-8000-{i:012d}" for i in range(12)]
    for key in keys[:10]:
        assert create(client, login, 10000, key=key).status == 201
    refused = create(client, login, 10000, key=keys[10])
    assert refused.status == 429, refused.text
    assert refused.json()["code"] == "too_many_requests"
    assert 3000 < int(refused.header("Retry-After")) <= 3600
    assert create(client, login, 10000, key=keys[0]).status == 200  # a replay is not a creation
    assert create(client, login, 99999, key=keys[0]).status == 429  # 429 comes before 409
    assert len(client.get("/v1/payments", token=login.access_token).json()["items"]) == 10
    clock_offset(3601)
    assert create(client, log_in(login.account), 10000, key=keys[11]).status == 201  # a fresh token: 15 min
