"""DELETE /v1/account: current password, one transaction, the office's records kept."""

from __future__ import annotations

import re

import pytest

from oph.accounts import token_store as tokens
from oph.accounts.account_store import account_key, email_key, holder_key
from oph.documents.model import Document, tenant_prefix
from oph.documents.store import DocumentStore
from oph.platform import aws
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, log_in, make_account, make_tenant


def _problem(reply, status, code):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    return body


def _item(table, key):
    return aws.dynamodb().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


def _tenants_item(key):
    return _item(get_settings().tenants_table, key)


@pytest.fixture
def tenant(runtime):
    return make_tenant()


@pytest.fixture
def account(tenant):
    return make_account(tenant)


def _delete(client, token, password=PASSWORD):
    return client.delete("/v1/account", {"current_password": password}, token=token)


def test_wrong_password_is_403_and_deletes_nothing(client, account, outbox):
    login = log_in(account)
    body = _problem(_delete(client, login.access_token, "Mauvais-2-Passe"), 403, "current_password_invalid")
    assert body["title"] == "Le mot de passe actuel est incorrect."
    assert _tenants_item(account_key(account.account_id))
    assert _tenants_item(email_key(account.email))
    assert client.get("/v1/account", token=login.access_token).status == 200
    assert outbox() == []


def test_body_is_required(client, account):
    login = log_in(account)
    reply = client.request("DELETE", "/v1/account", token=login.access_token)
    _problem(reply, 400, "malformed_json")
    body = _problem(client.delete("/v1/account", {}, token=login.access_token), 422, "validation_error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("current_password", "required")]
    assert _tenants_item(account_key(account.account_id))


def test_delete_removes_the_online_account_and_keeps_the_office_records(client, tenant, account, outbox):
    login = log_in(account)
    session = client.post("/v1/auth/login", {"email": account.email, "password": PASSWORD}).json()
    # A pending e-mail change and a forgotten-password link are outstanding.
    new = "ailleurs@exemple.com"
    assert (
        client.post(
            "/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=login.access_token
        ).status
        == 202
    )
    store = tokens.TokenStore()
    reset_link = store.issue(tokens.RESET_PASSWORD, account.account_id, 3600)
    change_link = re.search(r"token=([\w-]+)", next(m for m in outbox() if new in m["to"])["text"]).group(1)
    document = Document(
        doc_id="d1",
        tenant_number=tenant.holder.tenant_number,
        type="notice",
        title="Avis d'échéance — mai 2019",
        issued_on="2019-05-24",
        s3_key=tenant_prefix(tenant.holder.tenant_number) + "d1.pdf",
        filename="avis-echeance-2019-05.pdf",
        period="2019-05",
    )
    DocumentStore().put(document)

    reply = _delete(client, login.access_token)
    assert reply.status == 204, reply.text
    assert reply.body == b""

    assert _tenants_item(account_key(account.account_id)) is None
    assert _tenants_item(email_key(account.email)) is None
    assert _tenants_item(holder_key(account.holder_id)) is None
    # Sessions die with the account: access and refresh tokens alike.
    _problem(client.get("/v1/account", token=login.access_token), 401, "unauthorized")
    _problem(client.get("/v1/account", token=session["access_token"]), 401, "unauthorized")
    _problem(client.post("/v1/auth/refresh", {"refresh_token": session["refresh_token"]}), 401, "unauthorized")
    assert client.post("/v1/auth/login", {"email": account.email, "password": PASSWORD}).status == 401
    # Pending links are void.
    for kind, raw in ((tokens.RESET_PASSWORD, reset_link), (tokens.CHANGE_EMAIL, change_link)):
        with pytest.raises(Exception) as refused:
            store.peek(kind, raw)
        assert type(refused.value).__name__ == "TokenInvalid"
    # The office's records stay.
    tenancy_pk = {"S": f"TENANT#{tenant.holder.tenant_number}"}
    assert _tenants_item({"pk": tenancy_pk, "sk": {"S": "TENANCY"}})
    assert _tenants_item({"pk": tenancy_pk, "sk": {"S": f"HOLDER#{tenant.holder.holder_id}"}})
    assert DocumentStore().get(tenant.holder.tenant_number, "d1") is not None
    # The holder is told.
    assert [m["subject"] for m in outbox() if account.email in m["to"]][-1] == "Votre compte a été supprimé"


def test_the_holder_can_register_again(client, tenant, account, outbox):
    _delete(client, log_in(account).access_token)
    # Same holder, same address: the uniqueness items were released.
    again = make_account(tenant, account.email)
    assert again.account_id != account.account_id
    assert client.get("/v1/account", token=log_in(again).access_token).json()["email"] == account.email


def test_the_holder_can_start_registration_step_1_again(client, runtime, outbox):
    from devserver.seed import seed
    from oph.tenancy.model import Holder
    from oph.tenancy.store import TenancyStore
    from tests.factories import Tenant

    seed()
    holder = Holder("123456", "DUPOND", "Jean", "1975-09-10")
    account = make_account(Tenant(holder, TenancyStore().get_tenancy("123456")), "jean.dupond@exemple.com")
    identity = {"tenant_number": "123456", "last_name": "DUPOND", "first_name": "Jean", "birth_date": "1975-09-10"}
    assert client.post("/v1/registrations/identity", identity).status == 409
    assert _delete(client, log_in(account).access_token).status == 204
    assert client.post("/v1/registrations/identity", identity).status == 200


def test_deleting_twice_with_the_same_token_is_401(client, account, outbox):
    login = log_in(account)
    assert _delete(client, login.access_token).status == 204
    _problem(_delete(client, login.access_token), 401, "unauthorized")


def test_a_co_holders_account_is_untouched(client, tenant, account, outbox):
    from oph.tenancy.model import Holder
    from oph.tenancy.store import TenancyStore
    from tests.factories import Tenant

    co_holder = Holder(tenant.holder.tenant_number, "MARTIN", "Paul", "1979-01-01")
    TenancyStore().put_holder(co_holder)
    other = make_account(Tenant(co_holder, tenant.tenancy))
    assert _delete(client, log_in(account).access_token).status == 204
    assert client.get("/v1/account", token=log_in(other).access_token).status == 200
    assert _tenants_item(email_key(other.email))
    assert _tenants_item(holder_key(other.holder_id))
