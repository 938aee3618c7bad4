"""POST /v1/payments/notifications/{provider}: only a genuine notification about this very
payment changes it, once; the receipt and the e-mail follow a success exactly once."""

from __future__ import annotations

import json
import subprocess
import uuid
from urllib.parse import urlencode

import pytest

from oph.payments import systempay
from tests.handlers import test_payments_support as support
from tests.handlers.test_payments_support import (
    FORM,
    genuine_notification,
    new_payment,
    notify,
    stored,
)

payer = support.payer
in_process_sandbox = support.in_process_sandbox


def _emf_metrics(capsys) -> list[str]:
    names = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith('{"_aws"'):
            names += [m["Name"] for m in json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return names


def _assert_rejected(reply, status=400):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    assert "Traceback" not in reply.text
    assert reply.header("Location") is None


def _assert_untouched(payment_id, outbox):
    payment = stored(payment_id)
    assert payment.status == "created"
    assert payment.paid_at is None
    assert outbox() == []


def test_genuine_success(client, payer, outbox, capsys):
    _tenant, login = payer
    payment = new_payment(client, login, 22000)
    capsys.readouterr()
    reply = notify(client, genuine_notification(payment["id"]))
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("text/plain")
    assert reply.header("Location") is None
    assert "PaymentsSucceeded" in _emf_metrics(capsys)

    got = client.get(f"/v1/payments/{payment['id']}", token=login.access_token).json()
    assert got["status"] == "succeeded"
    assert got["paid_at"] and got["paid_at"].endswith("Z")

    mails = outbox()
    assert len(mails) == 1
    mail = mails[0]
    assert set(mail["to"]) == {login.account.email}
    assert mail["subject"] == "Confirmation de votre paiement de 220,00 €"
    assert "220,00 €" in mail["text"] and payment["id"] in mail["text"]
    assert "reçu de paiement" in mail["text"]
    assert mail["attachments"] == [
        {
            "filename": f"recu-paiement-{payment['id']}.pdf",
            "content_type": "application/pdf",
            "size": mail["attachments"][0]["size"],
        }
    ]
    assert mail["attachments"][0]["size"] > 1000


def test_success_lists_a_payment_receipt_document(client, payer, outbox, tmp_path):
    from oph.documents.model import tenant_prefix
    from oph.documents.store import DocumentStore
    from oph.platform import aws
    from oph.platform.settings import get_settings

    tenant, login = payer
    payment = new_payment(client, login, 22000)
    notify(client, genuine_notification(payment["id"]))
    documents = DocumentStore().list(tenant.holder.tenant_number)
    assert len(documents) == 1
    document = documents[0]
    paid_at = stored(payment["id"]).paid_at
    assert document.as_api() == {
        "id": f"payment-{payment['id']}",
        "type": "payment_receipt",
        "title": "Reçu de paiement — 220,00 €",
        "issued_on": document.issued_on,
        "period": None,
        "amount_cents": 22000,
    }
    assert document.filename == f"recu-paiement-{payment['id']}.pdf"
    assert document.s3_key.startswith(tenant_prefix(tenant.holder.tenant_number))
    from oph.platform.clock import paris_date as paris_day

    assert document.issued_on == paris_day(paid_at)
    pdf = aws.s3().get_object(Bucket=get_settings().documents_bucket, Key=document.s3_key)["Body"].read()
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-nodiag", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "REÇU DE PAIEMENT" in text and "220,00 €" in text and tenant.holder.tenant_number in text
    from oph.payments.references import payment_reference

    paid = stored(payment["id"])
    assert payment_reference(paid) in text and paid.trans_uuid and paid.trans_uuid in text
    assert f"{paid.trans_id} du " in text  # the gateway's transaction number


def test_duplicates_and_retries_apply_once(client, payer, outbox, capsys):
    _, login = payer
    payment = new_payment(client, login)
    fields = genuine_notification(payment["id"])
    capsys.readouterr()
    for _ in range(5):
        assert notify(client, fields).status == 200
    retry = {**fields, "vads_url_check_src": "RETRY"}
    from oph.payments.adapters.gateway import gateway_keys

    assert (
        notify(
            client, systempay.signed({k: v for k, v in retry.items() if k != "signature"}, gateway_keys().test_key)
        ).status
        == 200
    )
    assert _emf_metrics(capsys).count("PaymentsSucceeded") == 1
    assert len(outbox()) == 1
    first_paid_at = stored(payment["id"]).paid_at
    assert first_paid_at is not None


@pytest.mark.parametrize(
    "later", ["REFUSED", "ABANDONED", "CANCELLED", "EXPIRED", "CAPTURE_FAILED", "UNDER_VERIFICATION"]
)
def test_out_of_order_notifications_never_regress_a_paid_payment(client, payer, outbox, later, clock_offset):
    _, login = payer
    payment = new_payment(client, login)
    assert notify(client, genuine_notification(payment["id"], "AUTHORISED")).status == 200
    paid = stored(payment["id"])
    clock_offset(120)
    assert notify(client, genuine_notification(payment["id"], later)).status == 200
    after = stored(payment["id"])
    assert after.status == "succeeded"
    assert after.paid_at == paid.paid_at
    assert len(outbox()) == 1


def test_capture_after_authorisation_changes_nothing(client, payer, outbox):
    _, login = payer
    payment = new_payment(client, login)
    notify(client, genuine_notification(payment["id"], "AUTHORISED"))
    paid_at = stored(payment["id"]).paid_at
    assert notify(client, genuine_notification(payment["id"], "CAPTURED")).status == 200
    assert stored(payment["id"]).paid_at == paid_at
    assert len(outbox()) == 1


@pytest.mark.parametrize(
    ("trans_status", "expected"),
    [
        ("REFUSED", "refused"),
        ("ABANDONED", "abandoned"),
        ("CANCELLED", "abandoned"),
        ("EXPIRED", "expired"),
        ("NOT_CREATED", "refused"),
    ],
)
def test_final_failures(client, payer, outbox, trans_status, expected, capsys):
    _, login = payer
    payment = new_payment(client, login)
    capsys.readouterr()
    assert notify(client, genuine_notification(payment["id"], trans_status)).status == 200
    assert stored(payment["id"]).status == expected
    assert outbox() == []
    if expected == "refused":
        assert "PaymentsRefused" in _emf_metrics(capsys)
    # a final failure is not overwritten by another failure
    other = "ABANDONED" if expected == "refused" else "REFUSED"
    notify(client, genuine_notification(payment["id"], other))
    assert stored(payment["id"]).status == expected


def test_a_later_genuine_success_wins_over_a_refusal(client, payer, outbox):
    _, login = payer
    payment = new_payment(client, login)
    notify(client, genuine_notification(payment["id"], "REFUSED"))
    assert stored(payment["id"]).status == "refused"
    assert notify(client, genuine_notification(payment["id"], "AUTHORISED")).status == 200
    assert stored(payment["id"]).status == "succeeded"
    assert len(outbox()) == 1


@pytest.mark.parametrize("status", ["UNDER_VERIFICATION", "WAITING_AUTHORISATION", "INITIAL", "SOMETHING_NEW"])
def test_non_final_statuses_change_nothing(client, payer, outbox, status):
    _, login = payer
    payment = new_payment(client, login)
    assert notify(client, genuine_notification(payment["id"], status)).status == 200
    _assert_untouched(payment["id"], outbox)


def test_forged_signature_changes_nothing(client, payer, outbox, capsys):
    _, login = payer
    payment = new_payment(client, login)
    fields = genuine_notification(payment["id"])
    forged = {**fields, "signature": systempay.sign(fields, "not-the-shop-key")}
    capsys.readouterr()
    _assert_rejected(notify(client, forged))
    assert "PaymentNotificationsRejected" in _emf_metrics(capsys)
    _assert_rejected(notify(client, {**fields, "signature": ""}))
    _assert_rejected(notify(client, {k: v for k, v in fields.items() if k != "signature"}))
    _assert_untouched(payment["id"], outbox)
    assert client.get(f"/v1/payments/{payment['id']}", token=login.access_token).json()["status"] == "created"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vads_amount", "100"),
        ("vads_currency", "840"),
        ("vads_order_id", "0" * 32),
        ("vads_trans_status", "AUTHORISED"),
    ],
)
def test_tampered_fields_change_nothing(client, payer, outbox, field, value):
    _, login = payer
    payment = new_payment(client, login)
    fields = genuine_notification(payment["id"], "REFUSED" if field == "vads_trans_status" else "AUTHORISED")
    _assert_rejected(notify(client, {**fields, field: value}))
    _assert_untouched(payment["id"], outbox)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vads_amount", "100"),
        ("vads_currency", "840"),
        ("vads_site_id", "87654321"),
        ("vads_trans_id", "899999"),
        ("vads_trans_date", "20000101000000"),
        ("vads_ctx_mode", "PRODUCTION"),
    ],
)
def test_signed_but_not_matching_the_payment_changes_nothing(client, payer, outbox, field, value):
    # Even correctly signed (say, a notification of another shop or transaction), it must match.
    _, login = payer
    payment = new_payment(client, login)
    _assert_rejected(notify(client, genuine_notification(payment["id"], **{field: value})))
    _assert_untouched(payment["id"], outbox)


def test_notification_for_another_payment_id_changes_nothing(client, payer, outbox):
    _, login = payer
    payment = new_payment(client, login)
    other = new_payment(client, login, 22000)
    # signed for `payment`, but names `other` as the order: the transaction does not match
    fields = genuine_notification(payment["id"], vads_order_id=other["id"])
    _assert_rejected(notify(client, fields))
    _assert_untouched(payment["id"], outbox)
    assert stored(other["id"]).status == "created"


def test_unknown_order_is_rejected(client, payer, outbox):
    _, login = payer
    payment = new_payment(client, login)
    fields = genuine_notification(payment["id"], vads_order_id=uuid.uuid4().hex)
    _assert_rejected(notify(client, fields))


def test_wrong_provider_route_is_rejected(client, payer, outbox):
    _, login = payer
    payment = new_payment(client, login)  # a sandbox payment
    _assert_rejected(notify(client, genuine_notification(payment["id"]), provider="systempay"))
    _assert_untouched(payment["id"], outbox)
    reply = notify(client, genuine_notification(payment["id"]), provider="paypal")
    assert reply.status == 404
    assert reply.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
        ('{"vads_amount": "22000"}', "application/json"),
        ("vads_amount=1&vads_amount=2", "application/x-www-form-urlencoded"),
        ("garbage", "text/plain"),
        ("vads_ctx_mode=TEST", "application/x-www-form-urlencoded"),
        ("a=" + "x" * 70000, "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_notifications_are_4xx_never_500(client, runtime, body, content_type):
    reply = client.request(
        "POST", "/v1/payments/notifications/sandbox", body=body, headers={"Content-Type": content_type}
    )
    assert 400 <= reply.status < 500, reply.text
    assert "Traceback" not in reply.text


def test_test_mode_notifications_are_refused_in_production(client, payer, outbox, monkeypatch):
    """Production stage with the real gateway: a TEST notification, even correctly signed
    with the test key, changes nothing; the PRODUCTION one is accepted."""
    from oph.payments.adapters.gateway import gateway_keys
    from oph.platform import aws
    from oph.platform.settings import get_settings, reset_caches

    _, login = payer
    aws.secretsmanager().put_secret_value(
        SecretId=get_settings().payment_secret_arn,
        SecretString=json.dumps(
            {"site_id": "12345678", "test_key": "test-key-1234", "production_key": "prod-key-5678"}
        ),
    )
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("PAYMENT_PROVIDER", "systempay")
    reset_caches()
    try:
        payment = new_payment(client, login)
        record = stored(payment["id"])
        assert (record.provider, record.ctx_mode) == ("systempay", "PRODUCTION")
        fields = genuine_notification(payment["id"])
        assert fields["vads_ctx_mode"] == "PRODUCTION"
        unsigned = {k: v for k, v in fields.items() if k != "signature"}
        test_mode = systempay.signed({**unsigned, "vads_ctx_mode": "TEST"}, gateway_keys().test_key)
        _assert_rejected(notify(client, test_mode, provider="systempay"))
        _assert_untouched(payment["id"], outbox)
        # the sandbox does not exist in production
        assert notify(client, test_mode, provider="sandbox").status == 404
        # signed with the test key while claiming production: forged
        _assert_rejected(notify(client, systempay.signed(unsigned, "test-key-1234"), provider="systempay"))
        _assert_untouched(payment["id"], outbox)
        assert notify(client, fields, provider="systempay").status == 200
        assert stored(payment["id"]).status == "succeeded"
    finally:
        monkeypatch.undo()
        reset_caches()


def test_email_failure_is_retried_by_the_gateway_and_sent_once(client, payer, outbox):
    from oph.platform import errors
    from oph.platform.mail import set_mailer

    class Down:
        def send(self, email):
            raise errors.ServiceUnavailable(retry_after=30)

    _, login = payer
    payment = new_payment(client, login)
    fields = genuine_notification(payment["id"])
    set_mailer(Down())
    try:
        reply = notify(client, fields)
    finally:
        set_mailer(None)
    assert reply.status == 503  # the gateway retries (up to 4 times, every 15 minutes)
    assert stored(payment["id"]).status == "succeeded"
    assert outbox() == []
    assert notify(client, fields).status == 200
    assert notify(client, fields).status == 200
    assert len(outbox()) == 1


def test_notification_body_is_form_encoded_as_the_gateway_sends_it(client, payer):
    _, login = payer
    payment = new_payment(client, login)
    fields = genuine_notification(payment["id"])
    body = urlencode(fields)
    assert "%2B" in body or "%2F" in body or "%3D" in body  # a Base64 signature survives encoding
    reply = client.request("POST", "/v1/payments/notifications/sandbox", body=body, headers=dict(FORM))
    assert reply.status == 200
    assert reply.text.strip() == "OK"
