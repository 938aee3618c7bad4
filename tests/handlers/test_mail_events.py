"""SES bounce and complaint handling, through the mail-events function and its SNS event."""

from __future__ import annotations

import json

from devserver import events
from tests.factories import make_account, make_tenant


def _deliver(runtime, message):
    event = events.sns_event("arn:aws:sns:eu-west-3:123456789012:MailEventsTopic", json.dumps(message))
    return runtime.invoke("MailEventsFunction", event)


def _account(email):
    from oph.accounts.account_store import account_store

    return account_store().get_by_email(email)


def test_permanent_bounce_marks_the_account_undeliverable(runtime):
    make_account(make_tenant(), "bounce@exemple.com")
    result = _deliver(
        runtime,
        {
            "eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "Bounce@Exemple.com"}]},
        },
    )
    assert result == {"flagged": 1}
    assert _account("bounce@exemple.com").email_status == "undeliverable"


def test_complaint_marks_the_account_undeliverable(runtime):
    make_account(make_tenant(), "plainte@exemple.com")
    _deliver(
        runtime,
        {
            "notificationType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": "plainte@exemple.com"}]},
        },
    )
    assert _account("plainte@exemple.com").email_status == "undeliverable"


def test_transient_bounce_changes_nothing(runtime):
    make_account(make_tenant(), "pleine@exemple.com")
    result = _deliver(
        runtime,
        {
            "eventType": "Bounce",
            "bounce": {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "pleine@exemple.com"}]},
        },
    )
    assert result == {"flagged": 0}
    assert _account("pleine@exemple.com").email_status == "ok"


def test_unknown_address_and_garbage_are_ignored(runtime):
    other = make_account(make_tenant(), "tiers@exemple.com")
    event = events.sns_event("arn:aws:sns:eu-west-3:123456789012:MailEventsTopic", "not json")
    assert runtime.invoke("MailEventsFunction", event) == {"flagged": 0}
    result = _deliver(
        runtime,
        {
            "eventType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "x@y.fr"}]},
        },
    )
    assert result == {"flagged": 0}
    assert _account(other.email).email_status == "ok"
