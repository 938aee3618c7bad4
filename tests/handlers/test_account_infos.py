"""GET /v1/account ("Mes infos") and /v1/account/preferences, in-process against moto."""

from __future__ import annotations

import pytest

from oph.accounts.account_store import account_key, account_store
from oph.platform import aws
from oph.platform.settings import get_settings
from oph.tenancy.model import Holder
from oph.tenancy.store import TenancyStore
from tests.factories import Tenant, log_in, make_account, tenant_with_login

CONTRACT_KEYS = {
    "tenant_number",
    "first_name",
    "last_name",
    "email",
    "pending_email",
    "email_status",
    "contract_number",
    "third_party_number",
    "address",
    "created_at",
    "terms_accepted_at",
}


def _problem(reply, status, code):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    assert body["request_id"] == reply.header("X-Request-Id")
    return body


@pytest.fixture
def me(runtime):
    return tenant_with_login(email="Sophie.Martin@Exemple.com", last_name="MARTIN", first_name="Sophie")


# -- GET /v1/account


def test_account_is_exactly_the_contract_body(client, me):
    tenant, login = me
    reply = client.get("/v1/account", token=login.access_token)
    assert reply.status == 200, reply.text
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    body = reply.json()
    assert set(body) == CONTRACT_KEYS
    assert body == {
        "tenant_number": tenant.holder.tenant_number,
        "first_name": "Sophie",
        "last_name": "MARTIN",
        "email": "sophie.martin@exemple.com",
        "pending_email": None,
        "email_status": "ok",
        "contract_number": tenant.tenancy.contract_number,
        "third_party_number": tenant.tenancy.third_party_number,
        "address": {"line1": "12 Rue du Moutier", "postal_code": "93300", "city": "AUBERVILLIERS"},
        "created_at": login.account.created_at,
        "terms_accepted_at": login.account.terms_accepted_at,
    }
    assert "password_hash" not in reply.text


def test_demo_tenant_address_comes_from_the_office_records(client, demo_tenant):
    holder = Holder("123456", "DUPOND", "Jean", "1975-09-10")
    tenancy = TenancyStore().get_tenancy("123456")
    account = make_account(Tenant(holder, tenancy), "jean.dupond@exemple.com")
    body = client.get("/v1/account", token=log_in(account).access_token).json()
    assert body["address"] == {"line1": "10 Rue Hémet", "postal_code": "93300", "city": "AUBERVILLIERS"}
    assert body["contract_number"] == "0123456-01"
    assert body["third_party_number"] == "T0098765"
    assert (body["first_name"], body["last_name"]) == ("Jean", "DUPOND")


def test_names_follow_the_office_records(client, me):
    tenant, login = me
    # A later import corrects the spelling of the holder's first name (same holder id).
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key={"pk": {"S": f"TENANT#{tenant.holder.tenant_number}"}, "sk": {"S": f"HOLDER#{tenant.holder.holder_id}"}},
        UpdateExpression="SET first_name = :f",
        ExpressionAttributeValues={":f": {"S": "Sophié"}},
    )
    assert client.get("/v1/account", token=login.access_token).json()["first_name"] == "Sophié"


def test_undeliverable_email_status_is_shown(client, me):
    _, login = me
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(login.account.account_id),
        UpdateExpression="SET email_status = :u",
        ExpressionAttributeValues={":u": {"S": "undeliverable"}},
    )
    assert client.get("/v1/account", token=login.access_token).json()["email_status"] == "undeliverable"


def test_account_routes_require_a_token(client, runtime):
    for method, path in [
        ("GET", "/v1/account"),
        ("GET", "/v1/account/preferences"),
        ("GET", "/v1/account/export"),
    ]:
        _problem(client.request(method, path), 401, "unauthorized")
    for method, path in [
        ("PUT", "/v1/account/preferences"),
        ("POST", "/v1/account/email"),
        ("POST", "/v1/account/email/confirm"),
        ("PUT", "/v1/account/password"),
        ("DELETE", "/v1/account"),
    ]:
        _problem(client.request(method, path, json_body={}), 401, "unauthorized")
        _problem(client.request(method, path, json_body={}, token="not-a-jwt"), 401, "unauthorized")


def test_disabled_account_gets_403(client, me):
    _, login = me
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(login.account.account_id),
        UpdateExpression="SET disabled = :t",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    _problem(client.get("/v1/account", token=login.access_token), 403, "account_disabled")


# -- preferences


PUSH_ON = {"push_notices": True, "push_payments": True}


def test_preferences_default_to_notices_on_receipts_off(client, me):
    _, login = me
    reply = client.get("/v1/account/preferences", token=login.access_token)
    assert reply.status == 200
    assert reply.json() == {
        "notice_emails": True,
        "receipts_by_email": False,
        "push_notices": True,
        "push_payments": True,
    }


def test_put_takes_any_subset_and_returns_the_whole(client, me):
    _, login = me
    reply = client.put("/v1/account/preferences", {"receipts_by_email": True}, token=login.access_token)
    assert reply.status == 200, reply.text
    assert reply.json() == {"notice_emails": True, "receipts_by_email": True, **PUSH_ON}
    reply = client.put("/v1/account/preferences", {"notice_emails": False}, token=login.access_token)
    assert reply.json() == {"notice_emails": False, "receipts_by_email": True, **PUSH_ON}
    reply = client.put("/v1/account/preferences", {}, token=login.access_token)
    assert reply.status == 200
    assert reply.json() == {"notice_emails": False, "receipts_by_email": True, **PUSH_ON}
    assert client.get("/v1/account/preferences", token=login.access_token).json() == {
        "notice_emails": False,
        "receipts_by_email": True,
        **PUSH_ON,
    }


def test_each_change_records_its_time(client, me, clock_offset):
    _, login = me
    client.put("/v1/account/preferences", {"receipts_by_email": True}, token=login.access_token)
    stored = account_store().get(login.account.account_id)
    first = stored.preferences_changed_at["receipts_by_email"]
    assert "notice_emails" not in stored.preferences_changed_at  # nothing changed there

    clock_offset(120)  # within the access token's 15 minutes
    # The same value again is not a change: the consent keeps its original date.
    client.put("/v1/account/preferences", {"receipts_by_email": True}, token=login.access_token)
    assert account_store().get(login.account.account_id).preferences_changed_at == {"receipts_by_email": first}
    reply = client.put(
        "/v1/account/preferences", {"receipts_by_email": False, "notice_emails": False}, token=login.access_token
    )
    assert reply.status == 200, reply.text
    changed = account_store().get(login.account.account_id).preferences_changed_at
    assert changed["receipts_by_email"] > first
    assert changed["notice_emails"] == changed["receipts_by_email"]


def test_account_item_without_preference_maps_still_updates(client, me):
    _, login = me
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(login.account.account_id),
        UpdateExpression="REMOVE preferences, preferences_changed_at",
    )
    assert client.get("/v1/account/preferences", token=login.access_token).json() == {
        "notice_emails": True,
        "receipts_by_email": False,
        **PUSH_ON,
    }
    reply = client.put("/v1/account/preferences", {"notice_emails": False}, token=login.access_token)
    assert reply.json() == {"notice_emails": False, "receipts_by_email": False, **PUSH_ON}
    assert "notice_emails" in account_store().get(login.account.account_id).preferences_changed_at


@pytest.mark.parametrize("value", ["true", 1, 0, None, "yes", [], {}])
def test_non_boolean_is_422_invalid_format(client, me, value):
    _, login = me
    reply = client.put("/v1/account/preferences", {"notice_emails": value}, token=login.access_token)
    body = _problem(reply, 422, "validation_error")
    assert body["title"] == "Certains champs sont invalides."
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("notice_emails", "invalid_format")]
    assert client.get("/v1/account/preferences", token=login.access_token).json()["notice_emails"] is True


def test_unknown_preference_is_422_and_lists_every_field(client, me):
    _, login = me
    reply = client.put("/v1/account/preferences", {"sms": True, "receipts_by_email": "oui"}, token=login.access_token)
    body = _problem(reply, 422, "validation_error")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("sms", "unknown_field"),
        ("receipts_by_email", "invalid_format"),
    }
    assert client.get("/v1/account/preferences", token=login.access_token).json()["receipts_by_email"] is False
