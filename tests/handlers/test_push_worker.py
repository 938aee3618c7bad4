"""Push notifications end to end in-process: the use cases queue them (SQS), the push worker
delivers them through moto's SNS mobile push, the platform applications' events remove dead
devices. What moto's SNS received is read as ``GET /_dev/push`` shows it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devserver import events
from devserver import template as tpl
from oph.accounts import push
from oph.accounts.device_store import device_store
from oph.platform import aws
from tests.factories import PASSWORD, log_in, make_account, make_tenant

PATH = "/v1/account/devices"


@pytest.fixture
def routed(runtime):
    """The device routes are the template's (tests/handlers/test_account_devices.py checks them)."""
    return runtime


@pytest.fixture
def pushed(aws):
    """Callable returning what SNS pushed so far, as ``GET /_dev/push`` lists it."""
    from devserver import push_outbox

    push_outbox.clear()
    return push_outbox.messages


@pytest.fixture
def push_aws(routed, pushed, monkeypatch) -> dict[str, str]:
    """A push queue and the two platform applications (APNs sandbox, as a dev stack has, and FCM)."""
    sns = aws.client("sns")
    ios = sns.create_platform_application(
        Name="oph-ios", Platform="APNS_SANDBOX", Attributes={"PlatformCredential": "key", "PlatformPrincipal": "cert"}
    )["PlatformApplicationArn"]
    android = sns.create_platform_application(
        Name="oph-android", Platform="GCM", Attributes={"PlatformCredential": "{}"}
    )["PlatformApplicationArn"]
    queue = aws.sqs().create_queue(QueueName="PushQueueUnderTest")["QueueUrl"]
    monkeypatch.setenv("PUSH_QUEUE_URL", queue)
    monkeypatch.setenv("APNS_PLATFORM_APPLICATION_ARN", ios)
    monkeypatch.setenv("FCM_PLATFORM_APPLICATION_ARN", android)
    return {"queue": queue, "ios": ios, "android": android}


@pytest.fixture
def me(push_aws, client):
    account = make_account(make_tenant())
    login = log_in(account)
    for platform, token in (("ios", "a1b2c3d4" * 8), ("android", "fcm-token:APA91b")):
        reply = client.put(PATH, {"platform": platform, "token": token}, token=login.access_token)
        assert reply.status == 204, reply.text
    return account, login


IOS_TOKEN, ANDROID_TOKEN = "a1b2c3d4" * 8, "fcm-token:APA91b"


def _queued(push_aws) -> list[dict[str, Any]]:
    reply = aws.sqs().receive_message(QueueUrl=push_aws["queue"], MaxNumberOfMessages=10, VisibilityTimeout=0)
    return reply.get("Messages", [])


def _run_worker(push_aws) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Deliver every queued message through the worker; (its answer, the messages it got)."""
    from functions.account import push_worker

    messages = _queued(push_aws)
    arn = f"arn:aws:sqs:{tpl.REGION}:{tpl.ACCOUNT_ID}:PushQueueUnderTest"
    result = push_worker.lambda_handler(events.sqs_event(arn, messages), events.LambdaContext("PushWorker", 256, 30))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            aws.sqs().delete_message(QueueUrl=push_aws["queue"], ReceiptHandle=message["ReceiptHandle"])
    return result, messages


def _sns_backend() -> Any:
    from moto.sns.models import sns_backends

    return sns_backends[tpl.ACCOUNT_ID][tpl.REGION]


def _endpoint(token: str) -> Any:
    return next(e for e in _sns_backend().platform_endpoints.values() if e.token == token)


def _device(account, token):
    return device_store().get(account.account_id, token)


def test_a_payment_reaches_every_device_in_its_platform_format(me, push_aws, pushed):
    account, _ = me
    assert push.notify_payment(account.account_id, "pay-123", True) == 1
    result, messages = _run_worker(push_aws)
    assert len(messages) == 1 and result == {"batchItemFailures": []}
    listed = pushed()
    assert {(m["platform"], m["token"]) for m in listed} == {("ios", IOS_TOKEN), ("android", ANDROID_TOKEN)}
    for message in listed:
        assert (message["title"], message["body"]) == ("Mon espace locataire", "Votre paiement a été accepté.")
        assert (message["type"], message["id"]) == ("payment", "pay-123")
        assert message["sent_at"].endswith("Z")
    apns = json.loads(next(iter(_endpoint(IOS_TOKEN).messages.values())))
    assert set(apns) == {"default", "APNS", "APNS_SANDBOX"}
    assert json.loads(apns["APNS_SANDBOX"]) == {
        "aps": {"alert": {"title": "Mon espace locataire", "body": "Votre paiement a été accepté."}},
        "type": "payment",
        "id": "pay-123",
    }
    fcm = json.loads(next(iter(_endpoint(ANDROID_TOKEN).messages.values())))
    assert json.loads(fcm["GCM"])["fcmV1Message"]["message"] == {
        "notification": {"title": "Mon espace locataire", "body": "Votre paiement a été accepté."},
        "data": {"type": "payment", "id": "pay-123"},
    }
    assert _device(account, IOS_TOKEN).endpoint_arn == _endpoint(IOS_TOKEN).arn  # kept for the next ones


def test_a_new_notice_and_a_refused_payment_in_order(me, push_aws, pushed):
    account, _ = me
    assert push.notify_notice([account.holder_id], "notice-2019-05", "2019-05") == 1
    _run_worker(push_aws)
    assert push.notify_payment(account.account_id, "pay-9", False) == 1
    _run_worker(push_aws)
    android = [m for m in pushed() if m["platform"] == "android"]
    assert [(m["type"], m["id"], m["body"]) for m in android] == [
        ("notice", "notice-2019-05", "Votre avis d'échéance de mai 2019 est disponible."),
        ("payment", "pay-9", "Votre paiement n'a pas abouti."),
    ]
    assert len(_sns_backend().platform_endpoints) == 2  # one endpoint per device, used twice


def test_nothing_after_the_account_is_deleted(me, push_aws, pushed, client):
    account, login = me
    push.notify_payment(account.account_id, "pay-1", True)
    _run_worker(push_aws)
    endpoints = {_endpoint(IOS_TOKEN).arn, _endpoint(ANDROID_TOKEN).arn}
    reply = client.delete("/v1/account", {"current_password": PASSWORD}, token=login.access_token)
    assert reply.status == 204, reply.text
    result, messages = _run_worker(push_aws)  # the removed devices' endpoints are deleted
    assert [json.loads(m["Body"])["kind"] for m in messages] == ["forget"] and result["batchItemFailures"] == []
    assert endpoints.isdisjoint(_sns_backend().platform_endpoints)
    assert push.notify_payment(account.account_id, "pay-2", True) == 0
    assert push.notify_notice([account.holder_id], "doc", "2019-06") == 0
    assert _queued(push_aws) == []


def test_a_disabled_endpoint_removes_the_device(me, push_aws, pushed):
    account, _ = me
    push.notify_payment(account.account_id, "pay-1", True)
    _run_worker(push_aws)
    dead = _endpoint(IOS_TOKEN).arn
    aws.client("sns").set_endpoint_attributes(EndpointArn=dead, Attributes={"Enabled": "false"})
    pushed_before = len(pushed())
    push.notify_payment(account.account_id, "pay-2", True)
    result, _ = _run_worker(push_aws)
    assert result == {"batchItemFailures": []}
    assert _device(account, IOS_TOKEN) is None and device_store().owner(IOS_TOKEN) is None
    assert dead not in _sns_backend().platform_endpoints
    assert [m["platform"] for m in pushed()[pushed_before:]] == ["android"]


def test_a_token_whose_old_endpoint_was_disabled_gets_it_back(me, push_aws, pushed):
    account, _ = me
    sns = aws.client("sns")
    old = sns.create_platform_endpoint(PlatformApplicationArn=push_aws["ios"], Token=IOS_TOKEN)["EndpointArn"]
    sns.set_endpoint_attributes(EndpointArn=old, Attributes={"Enabled": "false"})
    push.notify_payment(account.account_id, "pay-1", True)
    assert _run_worker(push_aws)[0] == {"batchItemFailures": []}
    assert _device(account, IOS_TOKEN).endpoint_arn == old  # the app registered it again: re-enabled
    assert sns.get_endpoint_attributes(EndpointArn=old)["Attributes"]["Enabled"].lower() == "true"
    assert {m["platform"] for m in pushed()} == {"ios", "android"}


class _Failing:
    """The SNS client, except that Publish answers ``code``."""

    def __init__(self, code: str, message: str = "") -> None:
        self.real, self.code, self.message = aws.client("sns"), code, message

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def publish(self, **_kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": self.code, "Message": self.message}}, "Publish")


def test_throttling_fails_the_message_for_sqs_to_retry(me, push_aws, pushed, monkeypatch):
    account, _ = me
    push.notify_payment(account.account_id, "pay-1", True)
    with monkeypatch.context() as patched:
        patched.setattr("oph.accounts.adapters.push_gateway._sns", lambda: _Failing("Throttled", "Rate exceeded"))
        result, messages = _run_worker(push_aws)
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert len(_queued(push_aws)) == 1  # still there, for the retry
    assert _run_worker(push_aws)[0] == {"batchItemFailures": []}
    assert len(pushed()) == 2 and _device(account, IOS_TOKEN) is not None


def test_a_refusal_that_retry_cannot_fix_is_dropped(me, push_aws, pushed, monkeypatch):
    account, _ = me
    push.notify_payment(account.account_id, "pay-1", True)
    failing = _Failing("InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse")
    monkeypatch.setattr("oph.accounts.adapters.push_gateway._sns", lambda: failing)
    result, _ = _run_worker(push_aws)
    assert result == {"batchItemFailures": []} and _queued(push_aws) == []
    assert pushed() == []
    assert _device(account, IOS_TOKEN) is not None and _device(account, ANDROID_TOKEN) is not None


def test_a_platform_without_application_is_skipped(me, push_aws, pushed, monkeypatch):
    account, _ = me
    monkeypatch.setenv("FCM_PLATFORM_APPLICATION_ARN", "")
    push.notify_payment(account.account_id, "pay-1", True)
    assert _run_worker(push_aws)[0] == {"batchItemFailures": []}
    assert [m["platform"] for m in pushed()] == ["ios"]


def test_without_a_queue_nothing_is_sent(me, push_aws, monkeypatch):
    account, _ = me
    monkeypatch.setenv("PUSH_QUEUE_URL", "")
    assert push.notify_payment(account.account_id, "pay-1", True) == 0
    monkeypatch.setenv("PUSH_QUEUE_URL", push_aws["queue"])
    assert _queued(push_aws) == []


def test_a_delivery_failure_event_removes_the_device(me, push_aws, pushed):
    from functions.account import push_events

    account, _ = me
    push.notify_payment(account.account_id, "pay-1", True)
    _run_worker(push_aws)
    endpoint = _endpoint(ANDROID_TOKEN).arn
    aws.client("sns").set_endpoint_attributes(EndpointArn=endpoint, Attributes={"Enabled": "false"})
    failure = {
        "DeliveryAttempts": 1,
        "EndpointArn": endpoint,
        "EventType": "DeliveryFailure",
        "FailureMessage": "Endpoint is disabled",
        "FailureType": "EndpointDisabled",
        "Resource": push_aws["android"],
        "Service": "SNS",
        "Time": "2024-05-01T10:00:00.000Z",
    }
    event = events.sns_event(f"arn:aws:sns:{tpl.REGION}:{tpl.ACCOUNT_ID}:PushEventsTopic", json.dumps(failure))
    assert push_events.lambda_handler(event, events.LambdaContext("PushEvents", 128, 10)) == {"removed": 1}
    assert _device(account, ANDROID_TOKEN) is None and _device(account, IOS_TOKEN) is not None
    assert endpoint not in _sns_backend().platform_endpoints
    updated = {"EventType": "EndpointUpdated", "EndpointArn": _endpoint(IOS_TOKEN).arn}
    event = events.sns_event(f"arn:aws:sns:{tpl.REGION}:{tpl.ACCOUNT_ID}:PushEventsTopic", json.dumps(updated))
    assert push_events.lambda_handler(event, events.LambdaContext("PushEvents", 128, 10)) == {"removed": 0}
    assert _device(account, IOS_TOKEN) is not None  # still enabled: kept
