"""The mail queue's sender (issue 18 point 8): the account's rate, back-off, once-only, no
dead letters from throttling — on a virtual clock (scripts/bench_mail.py models SQS and SES)."""

from __future__ import annotations

import contextlib
import io

import pytest

from oph.platform.mail import Attachment, Email, MailThrottled, email_from_dict, email_to_dict, set_mailer
from oph.platform.mail_queue import Pacer, QueuedEmail, from_sqs_record, mail_outbox, send_queued, sender_rate, to_body
from scripts.bench_mail import SimulatedQueue, ThrottlingSes, VirtualClock, simulate


@pytest.fixture(autouse=True)
def _quiet_metrics():
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def test_an_email_survives_the_queue_attachments_included():
    email = Email(
        to=["a@b.fr"],
        subject="Sujet é",
        text="texte",
        html="<p>h</p>",
        sender="x@y.fr",
        attachments=[Attachment("q.pdf", "application/pdf", b"%PDF-\x00\xff")],
    )
    assert email_from_dict(email_to_dict(email)) == email
    item = from_sqs_record({"messageId": "m1", "body": to_body(QueuedEmail(key="k", email=email, requeues=2))})
    assert (item.key, item.email, item.message_id, item.requeues) == ("k", email, "m1", 2)


def test_each_sender_takes_its_share_of_the_account_rate():
    assert sender_rate(14.0, 2) == pytest.approx(5.6)  # 80 % of 14/s, split in two
    assert sender_rate(1.0, 2) == pytest.approx(0.4)  # the SES sandbox
    assert sender_rate(0.0, 2) == pytest.approx(0.1)  # never zero: progress at 1 e-mail / 10 s


def test_the_pacer_spaces_sends_and_holds_after_throttling():
    clock = VirtualClock()
    pacer = Pacer(5.0, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        pacer.wait()
    assert clock.now == pytest.approx(2.0)  # 11 sends at 5/s: the 11th at t = 2 s
    pacer.hold(8.0)
    pacer.wait()
    assert clock.now == pytest.approx(10.0)


def test_a_bulk_publication_goes_out_at_the_rate_once_and_never_dead_letters():
    result = simulate(3_000, quota_rate=14.0)
    assert result["sent"] == 3_000 and result["sent_twice"] == 0 and result["dead_lettered"] == 0
    assert result["throttled_answers"] == 0
    assert result["per_second"] == pytest.approx(11.2, rel=0.02)  # 80 % of 14/s, not more


def test_throttling_and_redelivery_neither_lose_nor_duplicate_nor_dead_letter():
    # SES allows 3/s while the quota says 14/s: the sender is throttled again and again.
    result = simulate(600, quota_rate=14.0, ses_rate=3.0, redeliver_every=7)
    assert result["throttled_answers"] > 0
    assert result["sent"] == 600 and result["sent_twice"] == 0 and result["dead_lettered"] == 0


def test_an_email_ses_refuses_for_good_is_reported_failed_and_its_claim_released():
    clock = VirtualClock()
    queue = SimulatedQueue(clock)

    class Refusing:
        def send(self, email: Email) -> None:
            raise RuntimeError("MessageRejected")

    items = [QueuedEmail(key="k1", email=Email(["a@b.fr"], "s", "t", "h"), message_id="m1")]
    set_mailer(Refusing())
    try:
        with mail_outbox.override(queue):
            report = send_queued(items, lambda: 60_000, Pacer(10.0, clock=clock, sleep=clock.sleep))
    finally:
        set_mailer(None)
    assert report.failed == ["m1"] and report.sent == 0
    assert queue.claims == set()  # SQS's retry may send it


def test_the_unsent_rest_goes_back_to_the_queue_before_the_invocation_ends():
    clock = VirtualClock()
    queue = SimulatedQueue(clock)
    ses = ThrottlingSes(clock, rate=100)
    items = [
        QueuedEmail(key=f"k{n}", email=Email(["a@b.fr"], f"s{n}", "t", "h"), message_id=f"m{n}") for n in range(10)
    ]
    deadline = 8.0  # seconds: at 1 e-mail/s, about 3 are sent before the 5 s safety margin
    set_mailer(ses)
    try:
        with mail_outbox.override(queue):
            report = send_queued(
                items, lambda: int((deadline - clock.now) * 1000), Pacer(1.0, clock=clock, sleep=clock.sleep)
            )
    finally:
        set_mailer(None)
    assert report.sent + report.requeued == 10 and report.failed == []
    assert report.requeued == len(queue.waiting) > 0
    assert sum(ses.sent.values()) == report.sent


def test_throttled_is_a_service_unavailable_with_retry_after():
    error = MailThrottled()
    assert error.status == 503 and error.retry_after


def test_the_container_pacer_follows_the_account_rate(monkeypatch):
    from oph.platform import mail_queue

    outbox = SimulatedQueue(VirtualClock(), max_rate=14.0)
    monkeypatch.setenv("MAIL_SENDER_CONCURRENCY", "2")
    monkeypatch.delenv("MAIL_SEND_RATE", raising=False)
    monkeypatch.setattr(mail_queue, "_pacer", None)
    with mail_outbox.override(outbox):
        first = mail_queue.container_pacer()
        assert first.rate == pytest.approx(5.6)
        outbox.max_rate = 50.0  # AWS raised the quota
        assert mail_queue.container_pacer() is first and first.rate == pytest.approx(20.0)
