"""The mobile app's own needs over HTTP against the local server (contract section 10): the
association files, the app configuration, and pushes reaching a registered device in
``GET /_dev/push`` (a payment, a new notice), and nothing once the account is deleted."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode, urlsplit

import pytest

from tests.e2e.tenants import register_tenant
from tests.e2e.test_payments_e2e import FORM, _hidden_fields
from tests.fixtures import STRONG_PASSWORD

pytestmark = pytest.mark.e2e

APPLE_APP_ID = re.compile(r"^[A-Z0-9]{10}\.[A-Za-z0-9][A-Za-z0-9.-]*$")
FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
NOTICE_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"


def _pushes(api, token: str) -> list[dict]:
    return [m for m in api.get("/_dev/push").json()["messages"] if m["token"] == token]


def test_the_apple_file_is_served_as_apple_documents_it(api):
    reply = api.get("/.well-known/apple-app-site-association")
    assert reply.status == 200  # no redirect, no authentication
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("Cache-Control") == "max-age=3600"
    body = reply.json()
    assert set(body) == {"applinks"} and set(body["applinks"]) == {"details"}
    (detail,) = body["applinks"]["details"]
    assert detail["components"] == [{"/": "/links/*"}]
    assert detail["appIDs"] and all(APPLE_APP_ID.match(app_id) for app_id in detail["appIDs"])
    assert len(reply.body) < 128 * 1024  # Apple's limit for the file


def test_the_android_file_is_a_digital_asset_links_statement_list(api):
    reply = api.get("/.well-known/assetlinks.json")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("Cache-Control") == "max-age=3600"
    (statement,) = reply.json()
    assert statement["relation"] == ["delegate_permission/common.handle_all_urls"]
    target = statement["target"]
    assert target["namespace"] == "android_app"
    assert re.match(r"^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+$", target["package_name"])
    assert target["sha256_cert_fingerprints"] and all(FINGERPRINT.match(f) for f in target["sha256_cert_fingerprints"])


def test_the_app_configuration(api):
    reply = api.get("/v1/app/config")
    assert reply.status == 200
    assert reply.header("Cache-Control") == "public, max-age=300"
    assert reply.json() == {
        "min_version": {"ios": "1.0.0", "android": "1.0.0"},
        "maintenance": None,
        "features": {"direct_debit": True, "statement": True, "push": True},
    }


def test_a_payment_and_a_new_notice_reach_the_device_and_nothing_after_deletion(api):
    tenant = register_tenant(api, prefix="push")
    token = f"fcm-{uuid.uuid4().hex}" * 3
    put = api.request(
        "PUT", "/v1/account/devices", json_body={"platform": "android", "token": token}, token=tenant.access_token
    )
    assert put.status == 204, put.text

    # A payment through the sandbox: succeeded -> "Votre paiement a été accepté."
    payment = api.post(
        "/v1/payments",
        {"amount_cents": 22000},
        token=tenant.access_token,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    ).json()
    parts = urlsplit(payment["checkout_url"])
    form = _hidden_fields(api.get(parts.path, query=parts.query).text)
    card = {**form, "card_number": "4970 1000 0000 0003"}
    assert api.request("POST", "/sandbox/payment/submit", body=urlencode(card), headers=FORM).status == 303
    (paid,) = _pushes(api, token)
    assert paid == {**paid, "platform": "android", "type": "payment", "id": payment["id"]}
    assert paid["body"] == "Votre paiement a été accepté."
    assert "220" not in paid["body"] and "LEFEBVRE" not in paid["body"]  # no amount, no name

    # A new notice for the tenancy: "Votre avis d'échéance de mai 2019 est disponible."
    rows = f"{tenant.tenant_number};2019-05;24/05/2019;2019-06-10;Loyer;rent;175,03;;\n"
    imported = api.request(
        "POST",
        "/_dev/imports/notices",
        query=f"name=push-{tenant.tenant_number}.csv",
        body=(NOTICE_HEADER + "\n" + rows).encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert imported.status == 200, imported.text
    notice = [m for m in _pushes(api, token) if m["type"] == "notice"]
    assert [m["body"] for m in notice] == ["Votre avis d'échéance de mai 2019 est disponible."]
    listed = api.get("/v1/documents", query="type=notice", token=tenant.access_token).json()["items"]
    assert notice[0]["id"] in {d["id"] for d in listed}

    # The account goes: its devices with it, nothing more reaches the phone.
    deleted = api.request(
        "DELETE", "/v1/account", json_body={"current_password": STRONG_PASSWORD}, token=tenant.access_token
    )
    assert deleted.status in (200, 204), deleted.text
    before = len(_pushes(api, token))
    second = f"{tenant.tenant_number};2019-06;24/06/2019;2019-07-10;Loyer;rent;175,03;;\n"
    api.request(
        "POST",
        "/_dev/imports/notices",
        query=f"name=push2-{tenant.tenant_number}.csv",
        body=(NOTICE_HEADER + "\n" + second).encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert len(_pushes(api, token)) == before


def test_devices_refuse_bad_input_and_need_a_token(api):
    tenant = register_tenant(api, prefix="pushbad")
    assert api.request("PUT", "/v1/account/devices", json_body={"platform": "android", "token": "t"}).status == 401
    for body in (
        {"platform": "windows", "token": "t"},
        {"platform": "ios", "token": ""},
        {"platform": "ios", "token": "a" * 4097},
    ):
        reply = api.request("PUT", "/v1/account/devices", json_body=body, token=tenant.access_token)
        assert reply.status == 422 and reply.json()["code"] == "validation_error", body
    gone = api.request("DELETE", "/v1/account/devices", json_body={"token": "inconnu"}, token=tenant.access_token)
    assert gone.status == 204
