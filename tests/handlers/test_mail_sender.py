"""The mail sender on the embedded AWS (issue 18 point 8): the queue, the claims in the tokens
table, SES's throttling answer, the SQS event the function receives."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from devserver import events
from devserver import template as tpl

ARN = f"arn:aws:sqs:{tpl.REGION}:{tpl.ACCOUNT_ID}:MailQueue"


def _receive(aws: Any) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=tpl.REGION)
    return sqs.receive_message(
        QueueUrl=aws.queue_urls["MailQueue"], MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    ).get("Messages", [])


def _email(n: int = 1) -> Any:
    from oph.platform.mail import compose

    return compose(f"Avis {n}", ["Bonjour,", "Votre avis est disponible."], to=f"locataire{n}@exemple.com")


def test_a_message_delivered_twice_is_sent_once(runtime, aws, outbox):
    from oph.platform.mail_queue import enqueue

    enqueue("notice/123456/doc-1/h1", _email())
    got = _receive(aws)
    assert len(got) == 1
    for _ in range(2):  # SQS delivers at least once
        assert runtime.invoke("MailSenderFunction", events.sqs_event(ARN, got)) == {"batchItemFailures": []}
    sent = outbox()
    assert [m["subject"] for m in sent] == ["Avis 1"]


def test_an_unreadable_message_is_reported_not_lost(runtime, aws):
    message = {"MessageId": "m-bad", "ReceiptHandle": "r", "Body": "{not json"}
    result = runtime.invoke("MailSenderFunction", events.sqs_event(ARN, [message]))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}


class _ThrottledSes:
    """SESv2 answering what it answers above the sending rate."""

    def send_email(self, **_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate exceeded."}}, "SendEmail"
        )


def test_ses_throttling_puts_the_email_back_as_a_new_delayed_message(runtime, aws, monkeypatch):
    from oph.platform import aws as oph_aws
    from oph.platform.mail_queue import Pacer, QueuedEmail, send_queued

    monkeypatch.setattr(oph_aws, "sesv2", lambda: _ThrottledSes())
    clock = [0.0]
    pacer = Pacer(10.0, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    item = QueuedEmail(key="notice/1/d/h", email=_email(), message_id="m1")
    report = send_queued([item], lambda: 6_000, pacer)  # too little time left to wait for SES
    assert report.failed == [] and report.requeued == 1 and report.sent == 0
    sqs = boto3.client("sqs", region_name=tpl.REGION)
    attributes = sqs.get_queue_attributes(QueueUrl=aws.queue_urls["MailQueue"], AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"  # a new message, its delay running
    # ... and the claim is released, so the requeued copy will be sent.
    from oph.platform.aws.mail_outbox import SqsMailOutbox

    assert SqsMailOutbox().claim("notice/1/d/h") is True


def test_the_sending_rate_is_read_from_ses(aws):
    from oph.platform.aws.mail_outbox import SqsMailOutbox

    assert SqsMailOutbox().max_send_rate() == pytest.approx(1.0)  # moto's account: the SES sandbox's rate


def test_the_body_is_what_the_sender_reads(aws):
    from oph.platform.mail_queue import QueuedEmail, from_sqs_record, to_body

    body = to_body(QueuedEmail(key="k", email=_email()))
    assert json.loads(body)["key"] == "k"
    assert from_sqs_record({"messageId": "x", "body": body}).email.subject == "Avis 1"
