"""Dependency failures on account routes: clean 503 + Retry-After, nothing half-written."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from oph.accounts.account_store import account_store, email_key
from oph.platform import aws
from oph.platform import mail as mailer
from oph.platform.errors import ServiceUnavailable
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, log_in, tenant_with_login

NEW_PASSWORD = "Velo-Rouge-Tulipe-93"


class FailingDynamo:
    """The real client, except the named operations, which fail ``times`` times with ``code``."""

    def __init__(self, real: Any, operations: set[str], code: str, times: int = 10**6, reasons: list | None = None):
        self.real, self.operations, self.code, self.left, self.reasons = real, operations, code, times, reasons

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.real, name)
        if name not in self.operations:
            return attribute

        def failing(**kwargs: Any) -> Any:
            if self.left > 0:
                self.left -= 1
                response: dict[str, Any] = {
                    "Error": {"Code": self.code, "Message": "secret AWS detail"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                }
                if self.reasons is not None:
                    response["CancellationReasons"] = [{"Code": r} for r in self.reasons]
                raise ClientError(response, name)
            return attribute(**kwargs)

        return failing


@pytest.fixture
def fail(monkeypatch):
    def install(operations: set[str], code: str = "ProvisionedThroughputExceededException", **kw: Any) -> FailingDynamo:
        real = aws.dynamodb()
        fake = FailingDynamo(real, operations, code, **kw)
        monkeypatch.setattr(aws, "dynamodb", lambda: fake)
        return fake

    return install


def _unavailable(reply):
    assert reply.status == 503, reply.text
    body = reply.json()
    assert body["code"] == "service_unavailable"
    assert int(reply.header("Retry-After")) >= 1
    assert "secret AWS detail" not in reply.text
    assert "Traceback" not in reply.text


def _stored(account_id):
    return account_store().get(account_id)


@pytest.fixture
def me(runtime):
    return tenant_with_login()[1]


def test_confirm_failure_leaves_the_old_address_and_the_token(client, me, outbox, fail, monkeypatch):
    new = "nouvelle.adresse@exemple.com"
    client.post("/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=me.access_token)
    token = re.search(r"token=([\w-]+)", next(m for m in outbox() if new in m["to"])["text"]).group(1)

    fail({"transact_write_items"})
    _unavailable(client.post("/v1/account/email/confirm", {"token": token}, token=me.access_token))
    monkeypatch.undo()
    assert _stored(me.account.account_id).email == me.account.email
    assert aws.dynamodb().get_item(TableName=get_settings().tenants_table, Key=email_key(new)).get("Item") is None
    # The link still works once the database is back.
    assert client.post("/v1/account/email/confirm", {"token": token}, token=me.access_token).json()["email"] == new


def test_transaction_conflicts_are_retried(client, me, outbox, fail):
    new = "retry.adresse@exemple.com"
    client.post("/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=me.access_token)
    token = re.search(r"token=([\w-]+)", next(m for m in outbox() if new in m["to"])["text"]).group(1)
    fake = fail(
        {"transact_write_items"},
        "TransactionCanceledException",
        times=2,
        reasons=["None", "TransactionConflict", "None", "None", "None"],
    )
    reply = client.post("/v1/account/email/confirm", {"token": token}, token=me.access_token)
    assert reply.status == 200, reply.text
    assert fake.left == 0
    assert reply.json()["email"] == new


def test_request_whose_mail_fails_is_withdrawn(client, me, outbox):
    class DownMailer:
        def send(self, email: mailer.Email) -> None:
            raise ServiceUnavailable(retry_after=30)

    mailer.set_mailer(DownMailer())
    try:
        reply = client.post(
            "/v1/account/email",
            {"new_email": "jamais.recue@exemple.com", "current_password": PASSWORD},
            token=me.access_token,
        )
    finally:
        mailer.set_mailer(None)
    _unavailable(reply)
    assert reply.header("Retry-After") == "30"
    assert client.get("/v1/account", token=me.access_token).json()["pending_email"] is None


def test_password_change_failure_changes_nothing(client, me, outbox, fail, monkeypatch):
    fail({"transact_write_items"})  # the new hash, the revocation and the new session: one write
    reply = client.put(
        "/v1/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD},
        token=me.access_token,
    )
    _unavailable(reply)
    monkeypatch.undo()
    assert client.get("/v1/account", token=me.access_token).status == 200  # nothing revoked
    assert client.post("/v1/auth/login", {"email": me.account.email, "password": PASSWORD}).status == 200
    assert outbox() == []


def test_password_change_survives_a_failing_notice(client, me, outbox):
    class DownMailer:
        def send(self, email: mailer.Email) -> None:
            raise ServiceUnavailable(retry_after=30)

    mailer.set_mailer(DownMailer())
    try:
        reply = client.put(
            "/v1/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD},
            token=me.access_token,
        )
    finally:
        mailer.set_mailer(None)
    # The change is committed and the old tokens are dead: the holder must get the new pair.
    assert reply.status == 200, reply.text
    assert client.get("/v1/account", token=reply.json()["access_token"]).status == 200


def test_delete_failure_deletes_nothing(client, me, outbox, fail, monkeypatch):
    fail({"transact_write_items"})
    _unavailable(client.delete("/v1/account", {"current_password": PASSWORD}, token=me.access_token))
    monkeypatch.undo()
    assert _stored(me.account.account_id) is not None
    assert client.get("/v1/account", token=log_in(me.account).access_token).status == 200


def test_reads_failing_are_503_too(client, me, fail):
    fail({"query"})
    _unavailable(client.get("/v1/account/export", token=me.access_token))


def test_preferences_write_failing_is_503(client, me, fail, monkeypatch):
    fail({"update_item"}, "ThrottlingException")
    _unavailable(client.put("/v1/account/preferences", {"receipts_by_email": True}, token=me.access_token))
    monkeypatch.undo()
    assert client.get("/v1/account/preferences", token=me.access_token).json()["receipts_by_email"] is False
