"""Push notifications' rules on the twins (no AWS): texts, gating, the platforms' formats,
delivery outcomes, platform events, and never failing the action that raised them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from oph.accounts import devices, push
from oph.accounts.account_store import account_store
from oph.accounts.adapters.push_gateway import DeviceTokenInvalid, PushRefused, PushUnavailable
from oph.accounts.admin import disable
from oph.accounts.device_store import device_store
from oph.accounts.model import Account
from oph.platform.errors import ServiceUnavailable
from tests.factories import make_account, make_tenant
from tests.twins.accounts import AccountsTwin, memory_accounts
from tests.twins.devices import APNS_APPLICATION, FCM_APPLICATION, PushTwin, memory_push

PROD_APNS = "arn:aws:sns:eu-west-3:123456789012:app/APNS/oph-prod"


@pytest.fixture
def twins() -> Iterator[tuple[AccountsTwin, PushTwin]]:
    with memory_accounts() as accounts, memory_push(accounts.devices) as pushes:
        yield accounts, pushes


@pytest.fixture
def sent(twins) -> list[dict]:
    return twins[1].queue.sent


@pytest.fixture
def gateway(twins):
    return twins[1].gateway


@pytest.fixture
def metrics(monkeypatch) -> list[str]:
    counted: list[str] = []
    for module in ("oph.accounts.push", "oph.accounts.push_jobs"):
        monkeypatch.setattr(f"{module}.count", lambda name, value=1: counted.append(name))
    return counted


def _account(*tokens: tuple[str, str], **preferences: bool) -> Account:
    account = make_account(make_tenant())
    for platform, token in tokens:
        devices.register_device(account, platform, token)
    if preferences:
        current = {**account.preferences}
        account_store().update_preferences(account, preferences, "2024-01-01T00:00:00Z", current=current)
    return account_store().get(account.account_id)


def _deliver_all(sent: list[dict]) -> int:
    delivered = sum(push.deliver(message) for message in list(sent))
    sent.clear()
    return delivered


# -- texts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "text"),
    [
        ("2019-05", "Votre avis d'échéance de mai 2019 est disponible."),
        ("2020-08", "Votre avis d'échéance de août 2020 est disponible."),
        ("2019-12", "Votre avis d'échéance de décembre 2019 est disponible."),
        ("2019-13", "Votre nouvel avis d'échéance est disponible."),
        (None, "Votre nouvel avis d'échéance est disponible."),
    ],
)
def test_the_notice_text_names_the_month_in_french(period, text):
    assert push.notice_text(period) == text


def test_the_contract_texts():
    assert push.TITLE == "Mon espace locataire"
    assert push.PAYMENT_SUCCEEDED == "Votre paiement a été accepté."
    assert push.PAYMENT_REFUSED == "Votre paiement n'a pas abouti."
    assert push.MANDATE_TEXTS["active"] == "Votre prélèvement automatique est en place."
    for text in [*push.MANDATE_TEXTS.values(), push.PAYMENT_SUCCEEDED, push.notice_text("2019-05")]:
        assert len(text) <= 60 and "€" not in text and not any(c.isdigit() for c in text.replace("2019", ""))


# -- raising them ----------------------------------------------------------------------------


def test_a_notice_is_queued_for_the_holders_who_want_it(twins, sent):
    wants = _account(("ios", "a"))
    no_device = _account()
    off = _account(("ios", "b"), push_notices=False)
    emails_off = _account(("android", "c"), notice_emails=False)  # e-mails are another preference
    holders = [a.holder_id for a in (wants, no_device, off, emails_off)] + ["no-account"]
    assert push.notify_notice(holders, "doc-1", "2019-05") == 2
    assert [m["account_id"] for m in sent] == [wants.account_id, emails_off.account_id]
    assert sent[0] == {
        "kind": "notify",
        "account_id": wants.account_id,
        "preference": "push_notices",
        "type": "notice",
        "id": "doc-1",
        "body": "Votre avis d'échéance de mai 2019 est disponible.",
        "title": "Mon espace locataire",
    }


def test_disabled_or_pending_accounts_get_nothing(twins, sent):
    disabled = _account(("ios", "a"))
    twins[0].accounts.items[disabled.account_id]["disabled"] = True  # disabling removes devices: force the case
    pending = _account(("ios", "b"))
    twins[0].accounts.items[pending.account_id]["status"] = "pending"
    assert push.notify_notice([disabled.holder_id, pending.holder_id], "doc", "2019-05") == 0
    assert push.notify_payment(pending.account_id, "p1", True) == 0
    assert push.notify_payment(disabled.account_id, "p1", True) == 0
    assert sent == []
    twins[0].accounts.items[disabled.account_id]["disabled"] = False
    assert push.notify_payment(disabled.account_id, "p1", True) == 1  # the same account, enabled


def test_an_account_disabled_after_queueing_gets_nothing(twins, sent, gateway):
    me = _account(("ios", "a"))
    push.notify_payment(me.account_id, "p1", True)
    disable(me.account_id, "admin")
    assert _deliver_all(sent) == 0 and gateway.published == []


def test_payments_and_mandates_follow_push_payments(twins, sent):
    me = _account(("android", "a"))
    off = _account(("android", "b"), push_payments=False)
    assert push.notify_payment(me.account_id, "pay-1", True) == 1
    assert push.notify_payment(me.account_id, "pay-2", False) == 1
    assert push.notify_payment(off.account_id, "pay-3", True) == 0
    assert push.notify_payment(None, "pay-4", True) == 0  # a payment without an account
    assert push.notify_mandate(me.account_id, "RUM-1", "active") == 1
    assert push.notify_mandate(me.account_id, "RUM-1", "rejected") == 1
    assert push.notify_mandate(me.account_id, "RUM-1", "revoked") == 1
    assert push.notify_mandate(me.account_id, "RUM-1", "pending") == 0
    assert push.notify_mandate(off.account_id, "RUM-2", "active") == 0
    assert [(m["type"], m["id"], m["preference"], m["body"]) for m in sent] == [
        ("payment", "pay-1", "push_payments", "Votre paiement a été accepté."),
        ("payment", "pay-2", "push_payments", "Votre paiement n'a pas abouti."),
        ("mandate", "RUM-1", "push_payments", "Votre prélèvement automatique est en place."),
        ("mandate", "RUM-1", "push_payments", "Votre prélèvement automatique n'a pas pu être mis en place."),
        ("mandate", "RUM-1", "push_payments", "Votre prélèvement automatique est arrêté."),
    ]


def test_no_personal_detail_travels(twins, sent):
    me = _account(("ios", "a"))
    push.notify_notice([me.holder_id], "doc-1", "2019-05")
    push.notify_payment(me.account_id, "pay-1", True)
    text = json.dumps(sent, ensure_ascii=False)
    for detail in (me.email, me.first_name, me.last_name, me.tenant_number, "a"):
        assert f'"{detail}"' not in text


def test_nothing_is_sent_without_a_queue(twins, sent):
    me = _account(("ios", "a"))
    twins[1].queue.is_configured = False
    assert push.notify_payment(me.account_id, "pay-1", True) == 0
    assert sent == []


def test_a_failing_queue_never_fails_the_caller(twins, sent, metrics):
    me = _account(("ios", "a"))
    twins[1].queue.failure = RuntimeError("SQS is down")
    assert push.notify_payment(me.account_id, "pay-1", True) == 0
    assert push.notify_notice([me.holder_id], "doc", "2019-05") == 0
    assert metrics.count("PushNotQueued") == 2


def test_a_failing_store_never_fails_the_caller(twins, monkeypatch, metrics):
    me = _account(("ios", "a"))

    def down(*_args):
        raise ServiceUnavailable()

    monkeypatch.setattr(account_store(), "get", down)
    monkeypatch.setattr(account_store(), "get_by_holder", down)
    assert push.notify_payment(me.account_id, "pay-1", True) == 0
    assert push.notify_mandate(me.account_id, "RUM", "active") == 0
    assert push.notify_notice([me.holder_id], "doc", "2019-05") == 0
    assert metrics.count("PushNotQueued") == 3


# -- the platforms' formats --------------------------------------------------------------------

NOTIFICATION = push.Notification("a1", "push_payments", "payment", "pay-1", "Votre paiement a été accepté.")


def test_apns_payload():
    assert json.loads(push.apns_payload(NOTIFICATION)) == {
        "aps": {"alert": {"title": "Mon espace locataire", "body": "Votre paiement a été accepté."}},
        "type": "payment",
        "id": "pay-1",
    }


def test_fcm_v1_payload():
    assert json.loads(push.fcm_payload(NOTIFICATION)) == {
        "fcmV1Message": {
            "message": {
                "notification": {"title": "Mon espace locataire", "body": "Votre paiement a été accepté."},
                "data": {"type": "payment", "id": "pay-1"},
            }
        }
    }


def test_one_string_per_platform_key():
    ios = json.loads(push.platform_message("ios", NOTIFICATION, sandbox=True))
    assert set(ios) == {"default", "APNS", "APNS_SANDBOX"}
    assert all(isinstance(v, str) for v in ios.values())  # SNS wants each platform's JSON as a string
    assert ios["APNS_SANDBOX"] == ios["APNS"] == push.apns_payload(NOTIFICATION)
    assert set(json.loads(push.platform_message("ios", NOTIFICATION))) == {"default", "APNS"}
    android = json.loads(push.platform_message("android", NOTIFICATION))
    assert set(android) == {"default", "GCM"} and android["GCM"] == push.fcm_payload(NOTIFICATION)
    assert android["default"] == "Votre paiement a été accepté."
    assert push.is_sandbox(APNS_APPLICATION) and not push.is_sandbox(PROD_APNS)


# -- delivering them ----------------------------------------------------------------------------


def test_each_device_gets_its_platform_format_once_its_endpoint_exists(twins, sent, gateway):
    me = _account(("ios", "phone"), ("android", "tablet"))
    push.notify_payment(me.account_id, "pay-1", True)
    assert _deliver_all(sent) == 2
    [ios] = gateway.sent_to("phone")
    [android] = gateway.sent_to("tablet")
    assert set(ios) == {"default", "APNS", "APNS_SANDBOX"}  # the twin's iOS application is a sandbox one
    assert json.loads(ios["APNS"])["aps"]["alert"]["body"] == "Votre paiement a été accepté."
    assert json.loads(android["GCM"])["fcmV1Message"]["message"]["data"] == {"type": "payment", "id": "pay-1"}
    stored = device_store().get(me.account_id, "phone")
    assert stored.endpoint_arn == gateway.endpoint_of("phone")
    push.notify_payment(me.account_id, "pay-2", False)
    assert _deliver_all(sent) == 2
    assert gateway.created == 2  # the endpoints were kept and used again
    assert len(gateway.sent_to("phone")) == 2


def test_delivery_reads_the_preference_again(twins, sent, gateway, metrics):
    me = _account(("ios", "phone"))
    push.notify_payment(me.account_id, "pay-1", True)
    account_store().update_preferences(me, {"push_payments": False}, "2024-01-01T00:00:00Z", current=me.preferences)
    assert _deliver_all(sent) == 0
    assert gateway.published == [] and "PushSkipped" in metrics


def test_an_invalid_token_removes_the_device(twins, sent, gateway, metrics):
    me = _account(("ios", "dead"), ("android", "alive"))
    push.notify_payment(me.account_id, "pay-1", True)
    _deliver_all(sent)
    gateway.endpoints[gateway.endpoint_of("dead")].enabled = False  # the platform said the token is invalid
    dead_endpoint = gateway.endpoint_of("dead")
    push.notify_payment(me.account_id, "pay-2", True)
    assert _deliver_all(sent) == 1
    assert [d.token for d in devices.account_devices(me.account_id)] == ["alive"]
    assert device_store().owner("dead") is None and dead_endpoint not in gateway.endpoints
    assert "PushTokensInvalid" in metrics


def test_a_token_sns_rejects_at_creation_removes_the_device(twins, sent, gateway, monkeypatch):
    me = _account(("ios", "not-hex"))

    def reject(application, token):
        raise DeviceTokenInvalid()

    monkeypatch.setattr(gateway, "create_endpoint", reject)
    push.notify_payment(me.account_id, "pay-1", True)
    assert _deliver_all(sent) == 0
    assert devices.account_devices(me.account_id) == []


def test_a_deleted_endpoint_is_made_again(twins, sent, gateway):
    me = _account(("android", "tablet"))
    push.notify_payment(me.account_id, "pay-1", True)
    _deliver_all(sent)
    gateway.delete_endpoint(gateway.endpoint_of("tablet"))
    push.notify_payment(me.account_id, "pay-2", True)
    assert _deliver_all(sent) == 1
    assert device_store().get(me.account_id, "tablet").endpoint_arn == gateway.endpoint_of("tablet")


def test_throttling_fails_the_message_after_trying_every_device(twins, sent, gateway, metrics):
    me = _account(("ios", "first"), ("android", "second"))
    push.notify_payment(me.account_id, "pay-1", True)
    gateway.errors.append(PushUnavailable("Throttled"))  # the first publish only
    with pytest.raises(PushUnavailable):
        push.deliver(sent[0])
    assert len(gateway.sent_to("second")) == 1 and gateway.sent_to("first") == []
    assert "PushRetried" in metrics
    assert len(devices.account_devices(me.account_id)) == 2  # nobody removed


def test_a_refusal_is_dropped_with_a_metric(twins, sent, gateway, metrics):
    me = _account(("ios", "first"), ("android", "second"))
    push.notify_payment(me.account_id, "pay-1", True)
    gateway.errors.append(PushRefused("InvalidParameter"))
    assert push.deliver(sent[0]) == 1
    assert metrics.count("PushDropped") == 1
    assert len(devices.account_devices(me.account_id)) == 2


def test_a_platform_without_application_is_skipped(twins, sent, gateway, metrics):
    me = _account(("ios", "phone"), ("android", "tablet"))
    del gateway.applications["android"]
    push.notify_payment(me.account_id, "pay-1", True)
    assert _deliver_all(sent) == 1
    assert len(gateway.sent_to("phone")) == 1 and gateway.sent_to("tablet") == []
    assert "PushPlatformNotConfigured" in metrics


def test_removed_devices_endpoints_are_forgotten_by_the_worker(twins, sent, gateway):
    me = _account(("ios", "phone"))
    push.notify_payment(me.account_id, "pay-1", True)
    _deliver_all(sent)
    endpoint = gateway.endpoint_of("phone")
    devices.unregister_device(me, "phone")
    assert sent == [{"kind": "forget", "endpoints": [endpoint]}]
    _deliver_all(sent)
    assert endpoint not in gateway.endpoints


def test_a_malformed_message_is_dropped(twins, metrics):
    assert push.deliver({"kind": "notify", "account_id": "a1"}) == 0
    assert push.deliver({"kind": "other"}) == 0
    assert metrics.count("PushMessagesMalformed") == 2


# -- the platform applications' events ---------------------------------------------------------


def _delivered_to(sent, account: Account) -> None:
    push.notify_payment(account.account_id, "pay-1", True)
    _deliver_all(sent)


def test_a_delivery_failure_removes_the_device(twins, sent, gateway):
    me = _account(("ios", "phone"), ("android", "tablet"))
    _delivered_to(sent, me)
    endpoint = gateway.endpoint_of("phone")
    event = {"EventType": "DeliveryFailure", "EndpointArn": endpoint, "FailureType": "EndpointDisabled"}
    record = {"Sns": {"Message": json.dumps(event)}}
    assert push.handle_platform_events([record, {"Sns": {"Message": "not json"}}]) == 1
    assert [d.token for d in devices.account_devices(me.account_id)] == ["tablet"]
    assert endpoint not in gateway.endpoints


def test_an_update_removes_the_device_only_if_it_disabled_the_endpoint(twins, sent, gateway):
    me = _account(("ios", "phone"))
    _delivered_to(sent, me)
    endpoint = gateway.endpoint_of("phone")
    updated = {"EventType": "EndpointUpdated", "EndpointArn": endpoint}
    assert push.handle_platform_event(updated) is False  # still enabled: a refresh, kept
    assert len(devices.account_devices(me.account_id)) == 1
    gateway.endpoints[endpoint].enabled = False
    assert push.handle_platform_event(updated) is True
    assert devices.account_devices(me.account_id) == []


def test_events_about_unknown_or_other_endpoints_change_nothing(twins, sent, gateway):
    me = _account(("ios", "phone"))
    _delivered_to(sent, me)
    endpoint = gateway.endpoint_of("phone")
    assert push.handle_platform_event({"EventType": "DeliveryFailure", "EndpointArn": "arn:unknown"}) is False
    assert push.handle_platform_event({"EventType": "EndpointCreated", "EndpointArn": endpoint}) is False
    assert push.handle_platform_event({"EventType": "DeliveryFailure"}) is False
    other = gateway.create_endpoint(FCM_APPLICATION, "phone")  # same token, another application
    assert push.handle_platform_event({"EventType": "DeliveryFailure", "EndpointArn": other}) is False
    assert len(devices.account_devices(me.account_id)) == 1


def test_a_device_that_moved_during_delivery_gets_nothing(twins, sent, gateway, monkeypatch):
    me, other = _account(("ios", "phone")), _account()
    create = gateway.create_endpoint

    def moved_meanwhile(application, token):
        devices.register_device(other, "ios", token)  # another account logs in on the phone
        return create(application, token)

    monkeypatch.setattr(gateway, "create_endpoint", moved_meanwhile)
    push.notify_payment(me.account_id, "pay-1", True)
    assert _deliver_all(sent) == 0
    assert gateway.published == []
    assert device_store().owner("phone") == other.account_id
