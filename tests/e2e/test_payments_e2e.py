"""Payments end to end, over HTTP against the local server, and the sandbox journey in the
real headless Chromium: app → POST /v1/payments → checkout page → "Payer" → sandbox page →
test card → return page → status succeeded → e-mail with the PDF receipt.
"""

from __future__ import annotations

import html
import json
import re
import threading
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.e2e.conftest import server_log_path
from tests.e2e.tenants import register_tenant

pytestmark = pytest.mark.e2e

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _register_and_log_in(api) -> tuple[str, str, str]:
    """A fresh registered tenant: (tenant number, e-mail, access token)."""
    tenant = register_tenant(api, prefix="paiement")
    return tenant.tenant_number, tenant.email, tenant.access_token


@pytest.fixture
def holder(api):
    return _register_and_log_in(api)


def _create(api, token, amount=22000, key=None):
    return api.post(
        "/v1/payments", {"amount_cents": amount}, token=token, headers={"Idempotency-Key": key or str(uuid.uuid4())}
    )


def _path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parts.query


def _hidden_fields(page: str) -> dict[str, str]:
    return {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }


def _mails_to(api, email):
    return [m for m in api.outbox() if email in m["to"]]


def _gateway_test_key() -> str:
    """The sandbox's test key, read from the local server's embedded AWS (as the gateway
    knows the shop's key) to sign notifications the way the gateway does."""
    import boto3

    log = server_log_path().read_text(encoding="utf-8")  # this worker's own server
    endpoint = re.search(r"Embedded AWS\s+(http://[\d.:]+)", log).group(1)
    client = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="eu-west-3")
    return json.loads(client.get_secret_value(SecretId="PaymentGatewaySecret")["SecretString"])["test_key"]


def test_create_replay_conflict_and_cross_tenant(api, holder):
    _, _, token = holder
    first = _create(api, token, 22000, key="e2e-key")
    assert first.status == 201, first.text
    again = _create(api, token, 22000, key="e2e-key")
    assert again.status == 200
    assert again.json() == first.json()
    conflict = _create(api, token, 22100, key="e2e-key")
    assert conflict.status == 409
    assert conflict.json()["code"] == "idempotency_conflict"
    missing = api.post("/v1/payments", {"amount_cents": 22000}, token=token)
    assert missing.status == 422
    assert missing.json()["errors"] == [
        {"field": "Idempotency-Key", "code": "required", "message": "Ce champ est obligatoire."}
    ]
    _, _, other = _register_and_log_in(api)
    reply = api.get(f"/v1/payments/{first.json()['id']}", token=other)
    assert reply.status == 404
    assert reply.json()["code"] == "not_found"


def test_double_tap_creates_one_payment(api, holder):
    _, _, token = holder
    key = str(uuid.uuid4())
    replies = []

    def tap():
        replies.append(_create(api, token, 22000, key=key))

    threads = [threading.Thread(target=tap) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in replies) == [200, 200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in replies}) == 1
    assert len(api.get("/v1/payments", token=token).json()["items"]) == 1


def test_ten_concurrent_copies_of_a_notification(api, holder):
    from oph.payments.adapters.gateway import build_notification

    _, email, token = holder
    payment = _create(api, token, 22000).json()
    path, query = _path(payment["checkout_url"])
    form = _hidden_fields(api.get(path, query=query).text)
    notification = build_notification(form, "AUTHORISED", _gateway_test_key(), "4970100000000003")
    body = urlencode(notification)
    forged = urlencode({**notification, "vads_amount": "100"})
    assert api.request("POST", "/v1/payments/notifications/sandbox", body=forged, headers=FORM).status == 400
    assert api.get(f"/v1/payments/{payment['id']}", token=token).json()["status"] == "created"

    statuses = []

    def deliver():
        statuses.append(api.request("POST", "/v1/payments/notifications/sandbox", body=body, headers=FORM).status)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 10
    got = api.get(f"/v1/payments/{payment['id']}", token=token).json()
    assert got["status"] == "succeeded"
    mails = _mails_to(api, email)
    receipts = [m for m in mails if m["subject"] == "Confirmation de votre paiement de 220,00 €"]
    assert len(receipts) == 1
    assert receipts[0]["attachments"][0]["filename"] == f"recu-paiement-{payment['id']}.pdf"
    # a late refusal never regresses it
    late = build_notification(form, "REFUSED", _gateway_test_key())
    assert api.request("POST", "/v1/payments/notifications/sandbox", body=urlencode(late), headers=FORM).status == 200
    assert api.get(f"/v1/payments/{payment['id']}", token=token).json()["status"] == "succeeded"
    assert len([m for m in _mails_to(api, email) if m["subject"].startswith("Confirmation")]) == 1


def test_sandbox_refused_and_cancelled_over_http(api, holder):
    _, _, token = holder
    for extra, expected in (({"card_number": "4970 1000 0000 0014"}, "refused"), ({"cancel": "1"}, "abandoned")):
        payment = _create(api, token, 15000).json()
        path, query = _path(payment["checkout_url"])
        form = _hidden_fields(api.get(path, query=query).text)
        page = api.request("POST", "/sandbox/payment", body=urlencode(form), headers=FORM)
        assert page.status == 200 and 'name="card_number"' in page.text
        submit = api.request("POST", "/sandbox/payment/submit", body=urlencode({**form, **extra}), headers=FORM)
        assert submit.status == 303
        assert submit.header("Location").endswith(f"/links/payment-return?payment_id={payment['id']}")
        assert api.get(f"/v1/payments/{payment['id']}", token=token).json()["status"] == expected


@pytest.mark.browser
def test_full_sandbox_journey_in_chromium(api, holder, page):
    number, email, token = holder
    before = api.get("/v1/payments/balance", token=token).json()
    created = _create(api, token, 22000)
    assert created.status == 201
    payment = created.json()

    page.goto(payment["checkout_url"])
    assert page.locator("h1").inner_text() == "Paiement de votre loyer"
    page.get_by_role("button", name="Payer 220,00 €").click()
    page.wait_for_url(re.compile(r".*/sandbox/payment$"))
    assert "Paiement sécurisé" in page.locator("h1").inner_text()
    page.fill("#card_number", "4970 1000 0000 0003")
    page.get_by_role("button", name="Payer 220,00 €").click()
    page.wait_for_url(re.compile(r".*/links/payment-return\?payment_id=" + payment["id"]))
    assert page.locator("h1").inner_text() == "Paiement accepté"
    assert "220,00 €" in page.content()

    got = api.get(f"/v1/payments/{payment['id']}", token=token).json()
    assert got["status"] == "succeeded"
    assert got["paid_at"]
    after = api.get("/v1/payments/balance", token=token).json()
    assert after["pending_cents"] == before["pending_cents"] + 22000

    mails = [m for m in _mails_to(api, email) if m["subject"] == "Confirmation de votre paiement de 220,00 €"]
    assert len(mails) == 1
    attachment = mails[0]["attachments"][0]
    assert attachment["filename"] == f"recu-paiement-{payment['id']}.pdf"
    assert attachment["content_type"] == "application/pdf"
    assert attachment["size"] > 1000
    assert number in mails[0]["text"]

    documents = api.get("/v1/documents", token=token)
    if documents.status == 200:  # the listing is built by the documents function
        receipts = [d for d in documents.json()["items"] if d["type"] == "payment_receipt"]
        assert receipts == [
            {
                "id": f"payment-{payment['id']}",
                "type": "payment_receipt",
                "title": "Reçu de paiement — 220,00 €",
                "issued_on": receipts[0]["issued_on"],
                "period": None,
                "amount_cents": 22000,
            }
        ]

    # the return page reads the recorded status, whatever the browser adds
    page.goto(api.base + f"/links/payment-return?payment_id={payment['id']}&vads_trans_status=REFUSED")
    assert page.locator("h1").inner_text() == "Paiement accepté"


@pytest.mark.browser
def test_cancel_in_chromium(api, holder, page):
    _, _, token = holder
    payment = _create(api, token, 5000).json()
    page.goto(payment["checkout_url"])
    page.get_by_role("button", name="Payer 50,00 €").click()
    page.wait_for_url(re.compile(r".*/sandbox/payment$"))
    page.get_by_role("button", name="Annuler").click()
    page.wait_for_url(re.compile(r".*/links/payment-return.*"))
    assert page.locator("h1").inner_text() == "Paiement annulé"
    assert api.get(f"/v1/payments/{payment['id']}", token=token).json()["status"] == "abandoned"
    # the checkout link no longer forwards to the gateway
    page.goto(payment["checkout_url"])
    assert "n'est plus valable" in page.content()
    assert dict(parse_qsl(urlsplit(payment["checkout_url"]).query))["payment_id"] == payment["id"]
