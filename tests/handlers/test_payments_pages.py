"""The checkout page, the sandbox gateway's page and the payment return page."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

import pytest

from oph.payments import systempay
from tests.handlers import test_payments_support as support
from tests.handlers.test_payments_support import (
    FORM,
    checkout_form,
    genuine_notification,
    new_payment,
    notify,
    path_and_query,
    stored,
)

payer = support.payer
in_process_sandbox = support.in_process_sandbox


def _hidden_fields(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }


def _open_checkout(client, payment):
    path, query = path_and_query(payment["checkout_url"])
    return client.get(path, query=query)


def _assert_html(reply, status):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("X-Request-Id")
    assert reply.header("Content-Security-Policy")
    assert "<script" not in reply.text
    assert '<html lang="fr">' in reply.text


def test_checkout_page_posts_the_signed_form_to_the_gateway(client, payer):
    _, login = payer
    payment = new_payment(client, login, 22000)
    reply = _open_checkout(client, payment)
    _assert_html(reply, 200)
    assert "Payer 220,00 €" in reply.text
    assert 'action="https://app.test/sandbox/payment"' in reply.text
    assert "form-action 'self' https://app.test" in reply.header("Content-Security-Policy")
    fields = _hidden_fields(reply.text)
    from oph.payments.adapters.gateway import gateway_keys

    assert systempay.verify(fields, gateway_keys().test_key)
    assert fields["vads_amount"] == "22000"
    assert fields["vads_currency"] == "978"
    assert fields["vads_order_id"] == payment["id"]
    assert fields["vads_ctx_mode"] == "TEST"
    assert fields["vads_url_return"] == f"https://app.test/links/payment-return?payment_id={payment['id']}"
    assert stored(payment["id"]).status == "created"  # opening the page changes nothing


def test_checkout_needs_the_links_signature(client, payer):
    _, login = payer
    mine = new_payment(client, login)
    other = new_payment(client, support.tenant_with_login()[1])
    sig = support.query_of(mine["checkout_url"])["sig"]
    for query in (
        f"payment_id={other['id']}&sig={sig}",  # my signature on someone else's payment
        f"payment_id={mine['id']}&sig={sig[:-2]}AA",
        f"payment_id={mine['id']}",
        f"sig={sig}",
        "",
    ):
        reply = client.get("/links/checkout", query=query)
        _assert_html(reply, 404)
        assert "Page introuvable" in reply.text
        assert "vads_" not in reply.text


def test_checkout_of_a_paid_or_closed_payment(client, payer, clock_offset):
    _, login = payer
    paid = new_payment(client, login)
    notify(client, genuine_notification(paid["id"]))
    reply = _open_checkout(client, paid)
    _assert_html(reply, 200)
    assert "déjà été effectué" in reply.text and "vads_" not in reply.text

    old = new_payment(client, login)
    clock_offset(61 * 60)  # PAYMENT_EXPIRY_MINUTES is 60: no checkout even before the job runs
    reply = _open_checkout(client, old)
    _assert_html(reply, 410)
    assert "n'est plus valable" in reply.text and "vads_" not in reply.text


def test_checkout_with_systempay_posts_to_the_systempay_form_url(client, payer, monkeypatch):
    from oph.platform.settings import reset_caches

    monkeypatch.setenv("PAYMENT_PROVIDER", "systempay")
    reset_caches()
    _, login = payer
    payment = new_payment(client, login)
    reply = _open_checkout(client, payment)
    _assert_html(reply, 200)
    assert 'action="https://paiement.systempay.fr/vads-payment/"' in reply.text
    assert "form-action 'self' https://paiement.systempay.fr" in reply.header("Content-Security-Policy")
    assert stored(payment["id"]).provider == "systempay"


def _sandbox_page(client, payment_id):
    return client.request("POST", "/sandbox/payment", body=urlencode(checkout_form(payment_id)), headers=dict(FORM))


def test_sandbox_page_shows_a_card_form(client, payer):
    _, login = payer
    payment = new_payment(client, login, 22000)
    reply = _sandbox_page(client, payment["id"])
    _assert_html(reply, 200)
    assert 'name="card_number"' in reply.text
    assert 'name="cancel"' in reply.text
    assert "Payer 220,00 €" in reply.text
    assert 'action="/sandbox/payment/submit"' in reply.text
    assert stored(payment["id"]).status == "created"


def test_sandbox_refuses_a_forged_form(client, payer):
    _, login = payer
    payment = new_payment(client, login, 22000)
    form = checkout_form(payment["id"])
    for forged in ({**form, "vads_amount": "100"}, {**form, "signature": "x"}, {"vads_amount": "100"}):
        reply = client.request("POST", "/sandbox/payment", body=urlencode(forged), headers=dict(FORM))
        _assert_html(reply, 400)
        assert 'name="card_number"' not in reply.text
    reply = client.request(
        "POST",
        "/sandbox/payment/submit",
        body=urlencode({**form, "vads_amount": "100", "card_number": "4970100000000003"}),
        headers=dict(FORM),
    )
    _assert_html(reply, 400)
    assert stored(payment["id"]).status == "created"


@pytest.mark.parametrize(
    ("extra", "expected", "title"),
    [
        ({"card_number": "4970 1000 0000 0003", "pay": "1"}, "succeeded", "Paiement accepté"),
        ({"card_number": "4970100000000003"}, "succeeded", "Paiement accepté"),
        ({"card_number": "4970 1000 0000 0014", "pay": "1"}, "refused", "Paiement refusé"),
        ({"card_number": "", "cancel": "1"}, "abandoned", "Paiement annulé"),
    ],
)
def test_sandbox_submit_notifies_first_then_redirects(
    client, payer, in_process_sandbox, outbox, extra, expected, title
):
    _, login = payer
    payment = new_payment(client, login, 22000)
    reply = client.request(
        "POST",
        "/sandbox/payment/submit",
        body=urlencode({**checkout_form(payment["id"]), **extra}),
        headers=dict(FORM),
    )
    assert reply.status == 303, reply.text
    location = reply.header("Location")
    assert location == f"https://app.test/links/payment-return?payment_id={payment['id']}"
    assert stored(payment["id"]).status == expected  # recorded before the browser comes back
    assert len(outbox()) == (1 if expected == "succeeded" else 0)
    path, query = path_and_query(location)
    page = client.get(path, query=query)
    _assert_html(page, 200)
    assert title in page.text
    assert f'data-status="{expected}"' in page.text


def test_sandbox_unknown_card_shows_the_page_again(client, payer, in_process_sandbox):
    _, login = payer
    payment = new_payment(client, login)
    reply = client.request(
        "POST",
        "/sandbox/payment/submit",
        body=urlencode({**checkout_form(payment["id"]), "card_number": "4111 1111 1111 1111"}),
        headers=dict(FORM),
    )
    _assert_html(reply, 422)
    assert "Carte de test inconnue" in reply.text
    assert 'name="card_number"' in reply.text
    assert stored(payment["id"]).status == "created"


def test_return_page_shows_the_recorded_status_not_the_browsers(client, payer):
    _, login = payer
    payment = new_payment(client, login)
    reply = client.get(
        "/links/payment-return",
        query=f"payment_id={payment['id']}&vads_trans_status=AUTHORISED&status=succeeded",
    )
    _assert_html(reply, 200)
    assert "Paiement en cours" in reply.text
    assert 'data-status="created"' in reply.text
    assert stored(payment["id"]).status == "created"
    for query in ("payment_id=unknown", "", "payment_id=" + "a" * 500):
        _assert_html(client.get("/links/payment-return", query=query), 404)


def test_sandbox_is_refused_in_production(client, payer, monkeypatch):
    from oph.platform import aws
    from oph.platform.settings import get_settings, reset_caches

    _, login = payer
    payment = new_payment(client, login)
    form = checkout_form(payment["id"])
    notification = genuine_notification(payment["id"])
    aws.secretsmanager().put_secret_value(
        SecretId=get_settings().payment_secret_arn,
        SecretString=json.dumps({"site_id": "12345678", "test_key": "t" * 32, "production_key": "p" * 32}),
    )
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("PAYMENT_PROVIDER", "systempay")  # the settings refuse sandbox in prod
    reset_caches()
    try:
        for path in ("/sandbox/payment", "/sandbox/payment/submit"):
            reply = client.request(
                "POST", path, body=urlencode({**form, "card_number": "4970100000000003"}), headers=dict(FORM)
            )
            _assert_html(reply, 404)
        # nor can a sandbox notification reach a production stage
        assert notify(client, notification, provider="sandbox").status == 404
    finally:
        monkeypatch.undo()
        reset_caches()
    assert stored(payment["id"]).status == "created"
