"""PUT and DELETE /v1/account/devices (contract section 10), the push preferences, and the
devices' removal with the account, in-process against moto."""

from __future__ import annotations

import threading

import pytest

from oph.accounts import devices
from oph.accounts.device_store import device_store, token_key
from oph.accounts.model import MAX_DEVICES
from oph.platform import aws
from oph.platform.errors import ServiceUnavailable
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, log_in, make_account, make_tenant

PATH = "/v1/account/devices"


@pytest.fixture
def routed(runtime):
    """The account function's two device routes, as template.yaml declares them."""
    for method in ("PUT", "DELETE"):
        assert runtime.match(method, PATH) is not None, f"template.yaml routes {method} {PATH}"
    return runtime


@pytest.fixture
def account(routed):
    return make_account(make_tenant())


@pytest.fixture
def token(account):
    return log_in(account).access_token


def _problem(reply, status, code):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    return body


def _register(client, token, platform="ios", device="apns-token-0001"):
    return client.put(PATH, {"platform": platform, "token": device}, token=token)


def _tokens(account):
    return [d.token for d in device_store().device_set(account.account_id).devices]


def _tenants_item(key):
    table = get_settings().tenants_table
    return aws.dynamodb().get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


# -- registration ------------------------------------------------------------------------------


def test_registration_is_204_and_kept(client, account, token):
    reply = _register(client, token, "android", "fcm:APA91b-token")
    assert reply.status == 204, reply.text
    assert reply.body == b""
    [device] = device_store().device_set(account.account_id).devices
    assert (device.platform, device.token) == ("android", "fcm:APA91b-token")
    assert device.registered_at.endswith("Z")


def test_the_same_token_again_changes_nothing(client, account, token, clock_offset):
    assert _register(client, token).status == 204
    before = device_store().device_set(account.account_id)
    clock_offset(60)
    assert _register(client, token).status == 204
    assert device_store().device_set(account.account_id) == before


def test_a_token_moves_to_the_account_that_registers_it(client, account, token):
    other = make_account(make_tenant())
    assert _register(client, log_in(other).access_token, "ios", "shared").status == 204
    assert _register(client, token, "ios", "shared").status == 204
    assert _tokens(other) == [] and _tokens(account) == ["shared"]
    assert device_store().owner("shared") == account.account_id


def test_at_most_five_the_least_recently_registered_go(client, account, token):
    for n in range(MAX_DEVICES + 2):
        assert _register(client, token, "android", f"token-{n}").status == 204
    assert _tokens(account) == [f"token-{n}" for n in range(2, MAX_DEVICES + 2)]
    assert _tenants_item(token_key("token-0")) is None and _tenants_item(token_key("token-1")) is None


@pytest.fixture
def one_aws_call_at_a_time(monkeypatch):
    """As in AWS (and the local server), each call is atomic; the calls of several threads
    interleave freely between them."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def atomic(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", atomic)


def test_a_flood_of_concurrent_registrations_never_grows_past_five(account, one_aws_call_at_a_time):
    device_store().owner("warm-up")  # the client exists before the threads start
    outcomes: list[str] = []

    def register(n: int) -> None:
        for k in range(3):
            try:
                devices.register_device(account, "ios", f"flood-{n}-{k}")
                outcomes.append("ok")
            except ServiceUnavailable:
                outcomes.append("503")  # gave up after losing every race: never more than five

    threads = [threading.Thread(target=register, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 24 and outcomes.count("ok") >= MAX_DEVICES
    current = device_store().device_set(account.account_id)
    assert len(current.devices) == MAX_DEVICES
    assert current.version == outcomes.count("ok")  # one version per registration that committed
    assert all(device_store().owner(d.token) == account.account_id for d in current.devices)


# -- bad input ------------------------------------------------------------------------------------

PLATFORM_MESSAGE = "La plateforme doit être ios ou android."
TOO_LONG = "Le jeton ne doit pas dépasser 4 096 octets."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"platform": "windows", "token": "t"}, [("platform", "invalid_format", PLATFORM_MESSAGE)]),
        ({"platform": "IOS", "token": "t"}, [("platform", "invalid_format", PLATFORM_MESSAGE)]),
        ({"platform": None, "token": "t"}, [("platform", "invalid_format", PLATFORM_MESSAGE)]),
        ({"platform": "ios", "token": ""}, [("token", "required", "Ce champ est obligatoire.")]),
        ({"platform": "ios", "token": "   "}, [("token", "required", "Ce champ est obligatoire.")]),
        ({"platform": "ios", "token": "x" * 4097}, [("token", "invalid_format", TOO_LONG)]),
        ({"platform": "ios", "token": "é" * 2049}, [("token", "invalid_format", TOO_LONG)]),  # 4 098 bytes
        ({"platform": "ios"}, [("token", "required", "Ce champ est obligatoire.")]),
        ({"token": "t"}, [("platform", "required", "Ce champ est obligatoire.")]),
        (
            {"platform": "ios", "token": "t", "name": "Mon iPhone"},
            [("name", "unknown_field", "Ce champ n'est pas attendu.")],
        ),
    ],
)
def test_bad_registrations_are_422_and_register_nothing(client, account, token, body, expected):
    reply = client.put(PATH, body, token=token)
    problem = _problem(reply, 422, "validation_error")
    assert problem["title"] == "Certains champs sont invalides."
    assert [(e["field"], e["code"], e["message"]) for e in problem["errors"]] == expected
    assert _tokens(account) == []


def test_every_bad_field_is_listed(client, token):
    problem = _problem(client.put(PATH, {"platform": "web", "token": ""}, token=token), 422, "validation_error")
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("platform", "invalid_format"),
        ("token", "required"),
    }


def test_a_token_of_exactly_4_kib_is_accepted(client, account, token):
    assert _register(client, token, "android", "y" * 4096).status == 204
    assert _tokens(account) == ["y" * 4096]


def test_without_an_access_token_it_is_401(client, account):
    _problem(client.put(PATH, {"platform": "ios", "token": "t"}), 401, "unauthorized")
    _problem(client.delete(PATH, {"token": "t"}), 401, "unauthorized")
    _problem(client.put(PATH, {"platform": "ios", "token": "t"}, token="not-a-jwt"), 401, "unauthorized")
    assert device_store().owner("t") is None


# -- unregistration ------------------------------------------------------------------------------


def test_delete_removes_the_callers_device_and_is_204_for_anything_else(client, account, token):
    other = make_account(make_tenant())
    assert _register(client, log_in(other).access_token, "ios", "theirs").status == 204
    assert _register(client, token, "ios", "mine").status == 204
    for unknown in ("theirs", "never-registered"):
        reply = client.delete(PATH, {"token": unknown}, token=token)
        assert reply.status == 204 and reply.body == b""
    assert _tokens(other) == ["theirs"]
    assert client.delete(PATH, {"token": "mine"}, token=token).status == 204
    assert _tokens(account) == [] and _tenants_item(token_key("mine")) is None


def test_delete_validates_its_token(client, token):
    problem = _problem(client.delete(PATH, {"token": ""}, token=token), 422, "validation_error")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("token", "required")]
    problem = _problem(client.delete(PATH, {"token": "t", "platform": "ios"}, token=token), 422, "validation_error")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("platform", "unknown_field")]


# -- with the account ------------------------------------------------------------------------------


def test_deleting_the_account_removes_its_devices(client, account, token):
    _register(client, token, "ios", "phone")
    _register(client, token, "android", "tablet")
    reply = client.delete("/v1/account", {"current_password": PASSWORD}, token=token)
    assert reply.status == 204, reply.text
    assert _tokens(account) == []
    assert _tenants_item(token_key("phone")) is None and _tenants_item(token_key("tablet")) is None
    assert device_store().device_set(account.account_id).version == 0


def test_disabling_removes_the_devices_logging_out_does_not(client, routed, account, token):
    _register(client, token, "ios", "phone")
    login = client.post("/v1/auth/login", {"email": account.email, "password": PASSWORD}).json()
    assert client.post("/v1/auth/logout", {"refresh_token": login["refresh_token"]}).status == 204
    assert _tokens(account) == ["phone"]
    result = routed.invoke("AccountAdminFunction", {"email": account.email, "disabled": True})
    assert result["found"] is True
    assert _tokens(account) == [] and device_store().owner("phone") is None
    routed.invoke("AccountAdminFunction", {"email": account.email, "disabled": False})
    fresh = client.post("/v1/auth/login", {"email": account.email, "password": PASSWORD}).json()
    assert _register(client, fresh["access_token"], "ios", "phone").status == 204
    assert _tokens(account) == ["phone"]


# -- preferences and export --------------------------------------------------------------------


def test_push_preferences_are_on_by_default_and_change(client, token):
    assert client.get("/v1/account/preferences", token=token).json() == {
        "notice_emails": True,
        "receipts_by_email": False,
        "push_notices": True,
        "push_payments": True,
    }
    reply = client.put("/v1/account/preferences", {"push_payments": False}, token=token)
    assert reply.status == 200, reply.text
    assert reply.json()["push_payments"] is False and reply.json()["push_notices"] is True
    problem = _problem(
        client.put("/v1/account/preferences", {"push_notices": "non"}, token=token), 422, "validation_error"
    )
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("push_notices", "invalid_format")]
    assert client.get("/v1/account/preferences", token=token).json()["push_payments"] is False


def test_the_export_lists_devices_without_their_token(client, token):
    _register(client, token, "android", "secret-device-token")
    client.put("/v1/account/preferences", {"push_notices": False}, token=token)
    reply = client.get("/v1/account/export", token=token)
    assert reply.status == 200, reply.text
    body = reply.json()
    [device] = body["devices"]
    assert set(device) == {"platform", "registered_at"} and device["platform"] == "android"
    assert "secret-device-token" not in reply.text
    assert body["preferences"]["push_notices"] is False and body["preferences"]["changed_at"]["push_notices"]
    consents = {c["type"]: c for c in body["consents"]}
    assert consents["push_notices"]["given"] is False and consents["push_payments"]["given"] is True
