"""Fault injection: every dependency failing at the worst moment of every use case.

Failures are injected with botocore event hooks on the very clients the code uses
(``before-call.<service>.<Operation>``), so the real adapters, retry loops and error mapping
run. For each fault the answer must be a clear 503 with ``Retry-After`` (or the documented
fallback: forgot/resend answer 202 whatever the mail system does; a success notice of a
change already committed is best effort; a payment notification answers 5xx so the gateway
retries), nothing may be half-written (checked on the items), and a retry must succeed.

``inject(service, operation, code, times=1, after=0)`` fails the ``after+1``-th to
``after+times``-th calls of one operation; the fixture counts what it fired so a test whose
fault never happened fails too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from oph.platform import aws as oph_aws
from oph.platform.aws import dynamo
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, make_tenant, tenant_with_login

NEW_PASSWORD = "Velo-Rouge-Tulipe-93"
AWS_DETAIL = "Rate of requests exceeds the allowed throughput (arn:aws:dynamodb:eu-west-3:000000000000:table/x)"
LEAKS = ("Traceback", "botocore", "ClientError", "arn:aws", "exceeds the allowed", "Exception")
THROTTLED = "ProvisionedThroughputExceededException"
CONFLICT = "TransactionConflict"
TOTAL = {"faults": 0}


# ---------------------------------------------------------------- the injector
def api_params(request: dict[str, Any] | None) -> dict[str, Any]:
    """The operation's parameters from the serialized request a before-call hook gets
    (DynamoDB speaks JSON)."""
    import json

    body = (request or {}).get("body") or b"{}"
    try:
        return dict(json.loads(body))
    except ValueError:
        return {}


@dataclass
class Fault:
    code: str
    times: int
    after: int
    status: int
    calls: int = 0
    fired: int = 0
    seen: list[str] = field(default_factory=list)

    def __call__(self, params: dict[str, Any] | None = None, model: Any = None, **_: Any) -> None:
        self.calls += 1
        if self.calls <= self.after or self.fired >= self.times:
            return
        self.fired += 1
        TOTAL["faults"] += 1
        response: dict[str, Any] = {
            "Error": {"Code": self.code, "Message": AWS_DETAIL},
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }
        name = model.name if model is not None else "Operation"
        if self.code.startswith("Transaction"):
            # A cancelled transaction says why per item: the first conflicted, the others fine.
            count = len(api_params(params).get("TransactItems", [])) or 1
            response["Error"]["Code"] = "TransactionCanceledException"
            response["CancellationReasons"] = [{"Code": self.code}] + [{"Code": "None"}] * (count - 1)
        raise ClientError(response, name)  # type: ignore[arg-type]


HTTP_STATUS = {
    THROTTLED: 400,
    "ThrottlingException": 400,
    "TooManyRequestsException": 429,
    "MessageRejected": 400,
    "SlowDown": 503,
    "InternalError": 500,
    "ServiceUnavailable": 503,
    "InternalServiceError": 500,
    "RequestLimitExceeded": 400,
}


@pytest.fixture
def inject(runtime) -> Iterator[Any]:
    installed: list[tuple[Any, str, Fault]] = []

    def install(service: str, operation: str, code: str = THROTTLED, times: int = 1, after: int = 0) -> Fault:
        client = oph_aws.client(service)  # the cached client every use case calls
        event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        fault = Fault(code, times, after, HTTP_STATUS.get(code, 400))
        client.meta.events.register(event, fault)
        installed.append((client, event, fault))
        return fault

    yield install
    for client, event, fault in installed:
        client.meta.events.unregister(event, fault)


@dataclass
class Unprocessed:
    """BatchGetItem answering without error but leaving every key unprocessed (throttling)."""

    times: int
    fired: int = 0

    def __call__(self, params: dict[str, Any] | None = None, **_: Any) -> Any:
        if self.fired >= self.times:
            return None
        self.fired += 1
        TOTAL["faults"] += 1

        class Http:
            status_code = 200

        return Http(), {"Responses": {}, "UnprocessedKeys": api_params(params).get("RequestItems", {})}


@pytest.fixture
def unprocessed(runtime) -> Iterator[Any]:
    client = oph_aws.dynamodb()
    hooks: list[Unprocessed] = []

    def install(times: int) -> Unprocessed:
        hook = Unprocessed(times)
        client.meta.events.register("before-call.dynamodb.BatchGetItem", hook)
        hooks.append(hook)
        return hook

    yield install
    for hook in hooks:
        client.meta.events.unregister("before-call.dynamodb.BatchGetItem", hook)


@pytest.fixture
def cold_secrets(runtime) -> None:
    """A fresh container: the JWT and gateway keys are read from Secrets Manager again."""
    from oph.platform.aws import secrets

    secrets.forget()  # the JWT and the gateway keys


# ---------------------------------------------------------------- checks
def unavailable(reply: Any, fault: Fault | None = None) -> None:
    assert reply.status == 503, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == "service_unavailable"
    assert body["title"].startswith("Le ")
    assert body["request_id"] == reply.header("X-Request-Id")
    assert int(reply.header("Retry-After")) >= 1
    clean(reply)
    if fault is not None:
        assert fault.fired == fault.times, "the fault never happened"


def clean(reply: Any) -> None:
    for leak in LEAKS:
        assert leak not in reply.text, leak


def scan(table: str) -> list[dict[str, Any]]:
    db = oph_aws.dynamodb()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = db.scan(**kwargs)
        items += [dynamo.from_item(i) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_accounts_consistent(items: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """At most one account per holder and per e-mail, and no orphan uniqueness item:
    every EMAIL#/HOLDER# item points to an existing account whose e-mail/holder matches,
    and every account has exactly its two pointers. Returns the accounts by id.

    ``items``: a scan of TenantsTable already made (else one is made here)."""
    items = scan(get_settings().tenants_table) if items is None else items
    by_id = {i["account_id"]: i for i in items if str(i["pk"]).startswith("ACCOUNT#") and i["sk"] == "ACCOUNT"}
    emails = {str(i["pk"])[6:]: i["account_id"] for i in items if str(i["pk"]).startswith("EMAIL#")}
    holders = {
        str(i["pk"])[7:]: i["account_id"] for i in items if str(i["pk"]).startswith("HOLDER#") and i["sk"] == "ACCOUNT"
    }
    for email, account_id in emails.items():
        assert account_id in by_id, f"orphan e-mail pointer {email[:3]}…"
        assert by_id[account_id]["email"] == email
    for holder_id, account_id in holders.items():
        assert account_id in by_id, "orphan holder pointer"
        assert by_id[account_id]["holder_id"] == holder_id
    for account_id, account in by_id.items():
        assert emails.get(account["email"]) == account_id, "account without its e-mail pointer"
        assert holders.get(account["holder_id"]) == account_id, "account without its holder pointer"
    return by_id


def sessions_of(account_id: str) -> list[dict[str, Any]]:
    return [
        i
        for i in scan(get_settings().tokens_table)
        if str(i["pk"]).startswith("SESSION#") and i.get("account_id") == account_id
    ]


def link_token(outbox: Any, to: str, page: str) -> str | None:
    found = None
    for message in outbox():
        if to in message["to"]:
            match = re.search(rf"/links/{page}\?token=([A-Za-z0-9_%-]+)", message["text"])
            if match:
                found = match.group(1)
    return found


def identity_of(tenant: Any) -> dict[str, str]:
    h = tenant.holder
    return {
        "tenant_number": h.tenant_number,
        "last_name": h.last_name,
        "first_name": h.first_name,
        "birth_date": h.birth_date,
    }


def step2(token: str, email: str, password: str = PASSWORD) -> dict[str, Any]:
    return {
        "registration_token": token,
        "email": email,
        "email_confirmation": email,
        "password": password,
        "password_confirmation": password,
        "accept_terms": True,
    }


def fresh_email(prefix: str = "panne") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@exemple.com"


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post("/v1/auth/login", {"email": email, "password": password})


# ---------------------------------------------------------------- registration
@pytest.fixture
def step1(client) -> tuple[Any, str]:
    tenant = make_tenant()
    reply = client.post("/v1/registrations/identity", identity_of(tenant))
    assert reply.status == 200, reply.text
    return tenant, reply.json()["registration_token"]


def test_identity_lookup_throttled_is_503_and_not_counted_as_a_failure(client, runtime, inject):
    tenant = make_tenant()
    fault = inject("dynamodb", "Query")
    unavailable(client.post("/v1/registrations/identity", identity_of(tenant)), fault)
    assert client.post("/v1/registrations/identity", identity_of(tenant)).status == 200
    from oph.accounts.identity_check import TENANT_FAILURES
    from oph.platform.rate_limit_store import RateLimiter, hashed

    assert RateLimiter().current(TENANT_FAILURES, hashed(tenant.holder.tenant_number))[0] == 0


@pytest.mark.parametrize("code", [THROTTLED, "InternalServerError", "RequestLimitExceeded"])
def test_step2_write_failing_writes_nothing_and_the_token_still_works(client, step1, outbox, inject, code):
    _tenant, token = step1
    email = fresh_email()
    fault = inject("dynamodb", "TransactWriteItems", code)
    unavailable(client.post("/v1/registrations", step2(token, email)), fault)
    assert assert_accounts_consistent() == {}
    assert outbox() == []
    assert client.post("/v1/registrations", step2(token, email)).status == 201
    [account] = assert_accounts_consistent().values()
    assert account["email"] == email and account["status"] == "pending"


def test_step2_transaction_conflicts_are_retried_transparently(client, step1, outbox, inject):
    _tenant, token = step1
    email = fresh_email()
    fault = inject("dynamodb", "TransactWriteItems", CONFLICT, times=3)
    assert client.post("/v1/registrations", step2(token, email)).status == 201
    assert fault.fired == 3
    assert len(assert_accounts_consistent()) == 1
    assert link_token(outbox, email, "verify-email")


@pytest.mark.parametrize("code", ["MessageRejected", "TooManyRequestsException", "InternalServiceError"])
def test_step2_mail_failing_is_503_and_resend_recovers(client, step1, outbox, inject, code):
    _tenant, token = step1
    email = fresh_email()
    fault = inject("sesv2", "SendEmail", code)
    reply = client.post("/v1/registrations", step2(token, email))
    unavailable(reply, fault)
    # Documented: the pending account is written (whole), the link comes through "resend".
    [account] = assert_accounts_consistent().values()
    assert account["status"] == "pending"
    assert link_token(outbox, email, "verify-email") is None
    assert client.post("/v1/registrations/resend", {"email": email}).status == 202
    link = link_token(outbox, email, "verify-email")
    assert link and client.post("/v1/registrations/verify", {"token": link}).status == 200
    assert login(client, email).status == 200


def test_step2_read_failing_in_the_retry_loop_is_503(client, step1, outbox, inject):
    _tenant, token = step1
    email = fresh_email()
    inject("dynamodb", "TransactWriteItems", CONFLICT, times=1)
    fault = inject("dynamodb", "GetItem", THROTTLED, after=3)  # a read of the second attempt
    unavailable(client.post("/v1/registrations", step2(token, email)), fault)
    assert assert_accounts_consistent() == {}
    assert client.post("/v1/registrations", step2(token, email)).status == 201


@pytest.fixture
def pending(client, step1, outbox) -> tuple[str, str]:
    _tenant, token = step1
    email = fresh_email()
    assert client.post("/v1/registrations", step2(token, email)).status == 201
    link = link_token(outbox, email, "verify-email")
    assert link
    return email, link


@pytest.mark.parametrize("code", [THROTTLED, CONFLICT])
def test_verify_write_failing_keeps_the_account_pending_and_the_link_usable(client, pending, inject, code):
    email, link = pending
    fault = inject("dynamodb", "TransactWriteItems", code, times=1 if code == THROTTLED else 2)
    reply = client.post("/v1/registrations/verify", {"token": link})
    if code == CONFLICT:  # retried on fresh reads
        assert reply.status == 200 and fault.fired == 2
    else:
        unavailable(reply, fault)
        [account] = assert_accounts_consistent().values()
        assert account["status"] == "pending"
        assert client.post("/v1/registrations/verify", {"token": link}).status == 200
    [account] = assert_accounts_consistent().values()
    assert account["status"] == "active"
    assert login(client, email).status == 200


def test_resend_with_mail_down_still_answers_202(client, pending, outbox, inject):
    email, _link = pending
    fault = inject("sesv2", "SendEmail", "MessageRejected")
    reply = client.post("/v1/registrations/resend", {"email": email})
    assert reply.status == 202 and fault.fired == 1
    clean(reply)


# ---------------------------------------------------------------- login, refresh, logout
@pytest.fixture
def member(runtime) -> Any:
    _tenant, session = tenant_with_login()
    return session


@pytest.mark.parametrize("code", [THROTTLED, CONFLICT])
def test_login_session_write_failing_is_503_and_writes_no_session(client, member, inject, code):
    fault = inject("dynamodb", "TransactWriteItems", code)
    unavailable(login(client, member.account.email), fault)
    assert len(sessions_of(member.account.account_id)) == 1  # the factory's own session only
    reply = login(client, member.account.email)
    assert reply.status == 200
    assert client.get("/v1/account", token=reply.json()["access_token"]).status == 200


def test_login_with_secrets_manager_down_is_503_and_writes_no_session(client, member, cold_secrets, inject):
    fault = inject("secretsmanager", "GetSecretValue", "InternalServiceError")
    unavailable(login(client, member.account.email), fault)
    assert len(sessions_of(member.account.account_id)) == 1
    assert login(client, member.account.email).status == 200


def test_authenticated_route_with_secrets_manager_down_is_503(client, member, cold_secrets, inject):
    fault = inject("secretsmanager", "GetSecretValue", "ThrottlingException")
    unavailable(client.get("/v1/account", token=member.access_token), fault)
    assert client.get("/v1/account", token=member.access_token).status == 200


def test_verifier_keys_left_unprocessed_are_asked_again(client, member, unprocessed):
    hook = unprocessed(times=2)
    assert client.get("/v1/account", token=member.access_token).status == 200
    assert hook.fired == 2


def test_verifier_keys_left_unprocessed_every_time_is_503(client, member, unprocessed):
    hook = unprocessed(times=10)
    unavailable(client.get("/v1/account", token=member.access_token))
    assert hook.fired >= 2
    hook.times = hook.fired  # throttling is over
    assert client.get("/v1/account", token=member.access_token).status == 200


@pytest.fixture
def pair(client, member) -> dict[str, Any]:
    reply = login(client, member.account.email)
    assert reply.status == 200
    return dict(reply.json())


@pytest.mark.parametrize("code", [THROTTLED, CONFLICT])
def test_refresh_rotation_failing_keeps_the_token_usable(client, pair, inject, code):
    fault = inject("dynamodb", "TransactWriteItems", code)
    unavailable(client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}), fault)
    reply = client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert reply.status == 200, reply.text
    assert client.get("/v1/account", token=reply.json()["access_token"]).status == 200


def test_refresh_with_secrets_manager_down_can_be_retried(client, pair, cold_secrets, inject):
    """The rotation must not be committed when no access token can be signed: the retry
    with the same refresh token would otherwise look like a reuse and kill the session."""
    fault = inject("secretsmanager", "GetSecretValue", "InternalServiceError")
    unavailable(client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}), fault)
    reply = client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]})
    assert reply.status == 200, reply.text
    assert client.get("/v1/account", token=reply.json()["access_token"]).status == 200


def test_refresh_read_failing_is_503(client, pair, inject):
    fault = inject("dynamodb", "GetItem", THROTTLED, after=1)  # the session item
    unavailable(client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}), fault)
    assert client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).status == 200


def test_logout_failing_revokes_nothing_and_the_retry_does(client, pair, inject):
    fault = inject("dynamodb", "UpdateItem", THROTTLED)
    unavailable(client.post("/v1/auth/logout", {"refresh_token": pair["refresh_token"]}), fault)
    assert client.get("/v1/account", token=pair["access_token"]).status == 200
    assert client.post("/v1/auth/logout", {"refresh_token": pair["refresh_token"]}).status == 204
    assert client.get("/v1/account", token=pair["access_token"]).status == 401
    assert client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).status == 401


# ---------------------------------------------------------------- forgot / reset
@pytest.mark.parametrize("code", ["MessageRejected", "TooManyRequestsException"])
def test_forgot_with_mail_down_answers_202_and_a_later_request_gets_the_link(client, member, outbox, inject, code):
    email = member.account.email
    fault = inject("sesv2", "SendEmail", code)
    reply = client.post("/v1/auth/password/forgot", {"email": email})
    assert reply.status == 202 and fault.fired == 1
    clean(reply)
    assert link_token(outbox, email, "reset-password") is None
    assert client.post("/v1/auth/password/forgot", {"email": email}).status == 202
    assert link_token(outbox, email, "reset-password")


def test_forgot_token_write_failing_is_503_then_works(client, member, outbox, inject):
    email = member.account.email
    fault = inject("dynamodb", "TransactWriteItems", THROTTLED)
    unavailable(client.post("/v1/auth/password/forgot", {"email": email}), fault)
    assert outbox() == []
    assert client.post("/v1/auth/password/forgot", {"email": email}).status == 202
    assert link_token(outbox, email, "reset-password")


@pytest.fixture
def reset_link(client, member, outbox) -> str:
    assert client.post("/v1/auth/password/forgot", {"email": member.account.email}).status == 202
    link = link_token(outbox, member.account.email, "reset-password")
    assert link
    return link


def _reset(client: Any, link: str) -> Any:
    return client.post(
        "/v1/auth/password/reset", {"token": link, "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}
    )


@pytest.mark.parametrize("code", [THROTTLED, CONFLICT])
def test_reset_write_failing_changes_nothing_and_the_link_still_works(client, member, reset_link, inject, code):
    fault = inject("dynamodb", "TransactWriteItems", code)
    unavailable(_reset(client, reset_link), fault)
    assert client.get("/v1/account", token=member.access_token).status == 200  # nothing revoked
    assert login(client, member.account.email).status == 200  # old password still valid
    assert _reset(client, reset_link).status == 204
    assert client.get("/v1/account", token=member.access_token).status == 401
    assert login(client, member.account.email, NEW_PASSWORD).status == 200


def test_reset_committed_then_throttle_cleanup_failing_still_answers_204(client, member, reset_link, inject):
    fault = inject("dynamodb", "DeleteItem", THROTTLED)  # clearing the login lock, after the commit
    reply = _reset(client, reset_link)
    assert reply.status == 204, reply.text
    assert fault.fired == 1
    assert login(client, member.account.email, NEW_PASSWORD).status == 200


def test_reset_committed_then_mail_failing_still_answers_204(client, member, reset_link, outbox, inject):
    fault = inject("sesv2", "SendEmail", "MessageRejected")
    assert _reset(client, reset_link).status == 204 and fault.fired == 1
    assert client.get("/v1/account", token=member.access_token).status == 401
    assert login(client, member.account.email, NEW_PASSWORD).status == 200


# ---------------------------------------------------------------- e-mail change
def _request_change(client: Any, member: Any, new: str) -> Any:
    return client.post("/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=member.access_token)


def _account_item(account_id: str) -> dict[str, Any]:
    return assert_accounts_consistent()[account_id]


@pytest.mark.parametrize(
    ("after", "code"), [(0, "MessageRejected"), (1, "MessageRejected"), (1, "TooManyRequestsException")]
)
def test_change_request_whose_mail_fails_is_withdrawn_then_retried(client, member, outbox, inject, after, code):
    new = fresh_email("nouvelle")
    fault = inject("sesv2", "SendEmail", code, after=after)  # after=1: the old address was told
    unavailable(_request_change(client, member, new), fault)
    item = _account_item(member.account.account_id)
    assert "pending_email" not in item and item["email"] == member.account.email
    assert client.get("/v1/account", token=member.access_token).json()["pending_email"] is None
    assert _request_change(client, member, new).status == 202
    token = link_token(outbox, new, "confirm-email")
    assert token
    reply = client.post("/v1/account/email/confirm", {"token": token}, token=member.access_token)
    assert reply.status == 200 and reply.json()["email"] == new


def test_change_request_write_failing_records_and_sends_nothing(client, member, outbox, inject):
    new = fresh_email("nouvelle")
    fault = inject("dynamodb", "TransactWriteItems", THROTTLED)
    unavailable(_request_change(client, member, new), fault)
    assert outbox() == []
    assert "pending_email" not in _account_item(member.account.account_id)
    assert _request_change(client, member, new).status == 202


@pytest.fixture
def change_link(client, member, outbox) -> tuple[str, str]:
    new = fresh_email("nouvelle")
    assert _request_change(client, member, new).status == 202
    token = link_token(outbox, new, "confirm-email")
    assert token
    return new, token


def _confirm(client: Any, member: Any, token: str) -> Any:
    return client.post("/v1/account/email/confirm", {"token": token}, token=member.access_token)


@pytest.mark.parametrize("code", [THROTTLED, "InternalServerError"])
def test_confirm_swap_failing_keeps_the_old_address_and_the_link(client, member, change_link, inject, code):
    new, token = change_link
    fault = inject("dynamodb", "TransactWriteItems", code)
    unavailable(_confirm(client, member, token), fault)
    accounts_now = assert_accounts_consistent()
    assert accounts_now[member.account.account_id]["email"] == member.account.email
    assert _confirm(client, member, token).json()["email"] == new
    assert assert_accounts_consistent()[member.account.account_id]["email"] == new


def test_confirm_conflicts_are_retried(client, member, change_link, inject):
    new, token = change_link
    fault = inject("dynamodb", "TransactWriteItems", CONFLICT, times=3)
    reply = _confirm(client, member, token)
    assert reply.status == 200 and reply.json()["email"] == new and fault.fired == 3
    assert_accounts_consistent()


def test_confirm_conflicting_every_time_is_503_and_changes_nothing(client, member, change_link, inject):
    new, token = change_link
    fault = inject("dynamodb", "TransactWriteItems", CONFLICT, times=10)
    reply = _confirm(client, member, token)
    unavailable(reply)
    assert fault.fired >= 2
    assert assert_accounts_consistent()[member.account.account_id]["email"] == member.account.email
    fault.times = fault.fired  # the database calms down
    assert _confirm(client, member, token).json()["email"] == new


def test_confirm_committed_then_a_read_failing_still_answers_200(client, member, change_link, inject):
    """Once the swap is committed the link is used: a 503 then would leave a retry nothing
    but token_invalid. Every read comes before the write."""
    new, token = change_link
    calls: list[str] = []
    original = oph_aws.dynamodb().transact_write_items

    def spy(**kw: Any) -> Any:
        result = original(**kw)
        calls.append("committed")
        # From now on every read fails.
        inject("dynamodb", "GetItem", THROTTLED, times=10)
        inject("dynamodb", "Query", THROTTLED, times=10)
        return result

    client_ = oph_aws.dynamodb()
    client_.transact_write_items = spy
    try:
        reply = _confirm(client, member, token)
    finally:
        del client_.transact_write_items
    assert calls == ["committed"]
    assert reply.status == 200, reply.text
    assert reply.json()["email"] == new and reply.json()["pending_email"] is None


def test_confirm_committed_then_mail_failing_still_answers_200(client, member, change_link, inject):
    new, token = change_link
    fault = inject("sesv2", "SendEmail", "MessageRejected")
    reply = _confirm(client, member, token)
    assert reply.status == 200 and reply.json()["email"] == new and fault.fired == 1


# ---------------------------------------------------------------- password change
def _change_password(client: Any, member: Any) -> Any:
    return client.put(
        "/v1/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD},
        token=member.access_token,
    )


def _password_unchanged(client: Any, member: Any) -> None:
    assert client.get("/v1/account", token=member.access_token).status == 200
    assert login(client, member.account.email, NEW_PASSWORD).status == 401
    assert login(client, member.account.email).status == 200


@pytest.mark.parametrize(
    ("operation", "code"),
    [("TransactWriteItems", THROTTLED), ("TransactWriteItems", CONFLICT), ("BatchGetItem", THROTTLED)],
)
def test_password_change_failing_changes_nothing(client, member, outbox, inject, operation, code):
    fault = inject("dynamodb", operation, code)
    unavailable(_change_password(client, member), fault)
    _password_unchanged(client, member)
    reply = _change_password(client, member)
    assert reply.status == 200, reply.text
    assert client.get("/v1/account", token=reply.json()["access_token"]).status == 200
    assert client.get("/v1/account", token=member.access_token).status == 401


def test_password_change_with_secrets_manager_down_changes_nothing(client, member, inject):
    from oph.accounts import access_tokens as auth
    from oph.platform.aws import secrets

    client.get("/v1/account", token=member.access_token)  # keys cached by the verifier...
    secrets.forget()  # ...then the cache lapses between the check and the new token
    original = auth.signing_keys
    state = {"calls": 0}

    def flaky() -> Any:
        state["calls"] += 1
        if state["calls"] == 2:  # the verifier's read succeeded; the next one fails
            inject("secretsmanager", "GetSecretValue", "InternalServiceError")
            secrets.forget()
        return original()

    auth.signing_keys = flaky  # type: ignore[assignment]
    try:
        reply = _change_password(client, member)
    finally:
        auth.signing_keys = original  # type: ignore[assignment]
    unavailable(reply)
    _password_unchanged(client, member)
    assert _change_password(client, member).status == 200


def test_password_change_committed_then_mail_failing_still_answers_200(client, member, inject):
    fault = inject("sesv2", "SendEmail", "TooManyRequestsException")
    reply = _change_password(client, member)
    assert reply.status == 200 and fault.fired == 1
    assert client.get("/v1/account", token=reply.json()["access_token"]).status == 200


# ---------------------------------------------------------------- deletion
@pytest.mark.parametrize("code", [THROTTLED, CONFLICT])
def test_delete_failing_deletes_nothing_and_the_retry_deletes_all(client, member, inject, code):
    fault = inject("dynamodb", "TransactWriteItems", code)
    unavailable(client.delete("/v1/account", {"current_password": PASSWORD}, token=member.access_token), fault)
    assert member.account.account_id in assert_accounts_consistent()
    assert client.get("/v1/account", token=member.access_token).status == 200
    assert client.delete("/v1/account", {"current_password": PASSWORD}, token=member.access_token).status == 204
    assert member.account.account_id not in assert_accounts_consistent()
    assert client.get("/v1/account", token=member.access_token).status == 401


def test_delete_committed_then_mail_failing_still_answers_204(client, member, inject):
    fault = inject("sesv2", "SendEmail", "MessageRejected")
    reply = client.delete("/v1/account", {"current_password": PASSWORD}, token=member.access_token)
    assert reply.status == 204 and fault.fired == 1
    assert assert_accounts_consistent() == {}


# ---------------------------------------------------------------- payments
@pytest.fixture
def payer(runtime) -> Any:
    _tenant, session = tenant_with_login(balance_cents=61068, balance_date="2019-05-23")
    return session


def _pay(client: Any, session: Any, key: str, amount: int = 22000) -> Any:
    return client.post(
        "/v1/payments", {"amount_cents": amount}, token=session.access_token, headers={"Idempotency-Key": key}
    )


def _payments_of(tenant_number: str) -> list[dict[str, Any]]:
    table = get_settings().tenants_table
    return [i for i in scan(table) if i["pk"] == f"TENANT#{tenant_number}" and str(i["sk"]).startswith("PAYMENT#")]


def _day_index(payment_id: str) -> list[dict[str, Any]]:
    return [
        i
        for i in scan(get_settings().tenants_table)
        if str(i["pk"]).startswith(("PAYMENTS_OPEN", "PAYMENTS_PAID#")) and i.get("payment_id") == payment_id
    ]


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "TransactWriteItems", THROTTLED),
        ("dynamodb", "TransactWriteItems", CONFLICT),
        ("dynamodb", "UpdateItem", THROTTLED),  # the transaction counter
        ("dynamodb", "GetItem", THROTTLED),
        ("secretsmanager", "GetSecretValue", "InternalServiceError"),
    ],
)
def test_payment_creation_failing_creates_nothing_and_the_key_can_be_retried(
    client, payer, cold_secrets, inject, service, operation, code
):
    key = str(uuid.uuid4())
    after = 0  # GetItem: the idempotency record (the verifier reads with BatchGetItem)
    if service == "secretsmanager":
        assert client.get("/v1/account", token=payer.access_token).status == 200  # JWT key cached
    fault = inject(service, operation, code, after=after)
    unavailable(_pay(client, payer, key), fault)
    assert _payments_of(payer.account.tenant_number) == []
    reply = _pay(client, payer, key)
    assert reply.status == 201, reply.text
    again = _pay(client, payer, key)
    assert again.status == 200 and again.json() == reply.json()
    [stored] = _payments_of(payer.account.tenant_number)
    assert stored["status"] == "created"
    assert len(_day_index(stored["payment_id"])) == 1


def _notify(client: Any, fields: dict[str, str]) -> Any:
    from urllib.parse import urlencode

    return client.request(
        "POST",
        "/v1/payments/notifications/sandbox",
        body=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


@pytest.fixture
def paid(client, payer) -> tuple[Any, str, dict[str, str]]:
    from tests.handlers.test_payments_support import genuine_notification

    reply = _pay(client, payer, str(uuid.uuid4()))
    assert reply.status == 201
    payment_id = reply.json()["id"]
    return payer, payment_id, genuine_notification(payment_id)


def _status(payment_id: str) -> dict[str, Any]:
    [item] = [i for i in scan(get_settings().tenants_table) if i["sk"] == f"PAYMENT#{payment_id}"]
    return item


def _receipts(outbox: Any, email: str) -> list[dict[str, Any]]:
    return [m for m in outbox() if email in m["to"] and m["subject"].startswith("Confirmation de votre paiement")]


@pytest.mark.parametrize(
    ("service", "operation", "code", "after"),
    [
        ("dynamodb", "Query", THROTTLED, 0),  # finding the payment
        ("dynamodb", "TransactWriteItems", THROTTLED, 0),  # marking it succeeded
        ("dynamodb", "TransactWriteItems", CONFLICT, 0),
        ("dynamodb", "UpdateItem", THROTTLED, 0),  # claiming the fulfilment
        ("dynamodb", "UpdateItem", THROTTLED, 1),  # recording the receipt on the payment
        ("dynamodb", "PutItem", THROTTLED, 0),  # listing the receipt in Mes documents
        ("s3", "PutObject", "SlowDown", 0),
        ("s3", "PutObject", "InternalError", 0),
        ("sesv2", "SendEmail", "MessageRejected", 0),
        ("sesv2", "SendEmail", "TooManyRequestsException", 0),
        ("secretsmanager", "GetSecretValue", "InternalServiceError", 0),
    ],
)
def test_notification_failing_answers_5xx_and_the_gateway_retry_completes_once(
    client, paid, outbox, cold_secrets, inject, service, operation, code, after
):
    payer, payment_id, fields = paid
    outbox_before = len(_receipts(outbox, payer.account.email))
    fault = inject(service, operation, code, after=after)
    reply = _notify(client, fields)
    assert reply.status >= 500 and fault.fired == 1, reply.text
    clean(reply)
    assert reply.header("Location") is None
    state = _status(payment_id)
    assert state["status"] in ("created", "succeeded")
    assert "fulfilled_at" not in state and "fulfil_claimed_ts" not in state  # the lease is released
    assert _receipts(outbox, payer.account.email)[outbox_before:] == []
    # The gateway retries: now everything is done, once.
    assert _notify(client, fields).status == 200
    assert _notify(client, fields).status == 200
    state = _status(payment_id)
    assert state["status"] == "succeeded" and state.get("fulfilled_at")
    assert len(_receipts(outbox, payer.account.email)) == outbox_before + 1
    assert len([i for i in _day_index(payment_id) if str(i["pk"]).startswith("PAYMENTS_PAID#")]) == 1
    docs = client.get("/v1/documents", query="type=payment_receipt", token=payer.access_token).json()["items"]
    assert [d["id"] for d in docs] == [f"payment-{payment_id}"]


def test_refusal_write_failing_answers_503_and_the_retry_applies_it(client, paid, inject):
    from tests.handlers.test_payments_support import genuine_notification

    _payer, payment_id, _fields = paid
    refused = genuine_notification(payment_id, "REFUSED")
    fault = inject("dynamodb", "UpdateItem", THROTTLED)
    unavailable(_notify(client, refused), fault)
    assert _status(payment_id)["status"] == "created"
    assert _notify(client, refused).status == 200
    assert _status(payment_id)["status"] == "refused"


def test_sandbox_notification_that_cannot_be_delivered_still_sends_the_buyer_back(client, paid, outbox):
    """The sandbox posts its notification over HTTP (here to an unreachable host): the buyer
    lands on the return page, the payment stays pending, nothing is a 500."""
    from urllib.parse import urlencode

    from tests.handlers.test_payments_support import checkout_form

    _payer, payment_id, _fields = paid
    form = {**checkout_form(payment_id), "card_number": "4970 1000 0000 0003"}
    reply = client.request(
        "POST",
        "/sandbox/payment/submit",
        body=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 303, reply.text
    assert reply.header("Location").endswith(f"/links/payment-return?payment_id={payment_id}")
    assert _status(payment_id)["status"] == "created"


@pytest.mark.parametrize("path", ["/v1/payments/balance", "/v1/payments/statement"])
def test_the_positions_read_failing_is_503_then_answers(client, payer, inject, path):
    """The balance and the statement only read (one query of the tenancy's partition)."""
    fault = inject("dynamodb", "Query", THROTTLED)
    unavailable(client.get(path, token=payer.access_token), fault)
    assert client.get(path, token=payer.access_token).status == 200


# ---------------------------------------------------------------- documents (report only: not fixed here)
@pytest.fixture
def with_notice(runtime, aws) -> Any:
    from tests.handlers.test_import_support import NOTICE_HEADER, csv_bytes, run_import

    _tenant, session = tenant_with_login(balance_cents=0, balance_date="2019-06-30")
    number = session.account.tenant_number
    rows = [
        f"{number};2019-05;2019-05-24;2019-06-10;Loyer;rent;175,03;;",
        f"{number};2019-05;2019-05-24;2019-06-10;Provisions pour charges;charges;44,97;;",
    ]
    run_import(runtime, aws, "notices", f"{uuid.uuid4().hex}.csv", csv_bytes(NOTICE_HEADER, rows))
    return session


def _receipt_items(tenant_number: str) -> list[dict[str, Any]]:
    return [
        i
        for i in scan(get_settings().tenants_table)
        if i["pk"] == f"TENANT#{tenant_number}" and str(i["sk"]).startswith("DOC#") and i.get("type") == "receipt"
    ]


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "Query", THROTTLED),
        ("s3", "PutObject", "SlowDown"),
        ("s3", "PutObject", "InternalError"),
        ("dynamodb", "PutItem", THROTTLED),
    ],
)
def test_receipt_generation_failing_is_503_and_the_retry_makes_one_quittance(
    client, with_notice, inject, service, operation, code
):
    fault = inject(service, operation, code)
    reply = client.post("/v1/documents/receipts", {"period": "2019-05"}, token=with_notice.access_token)
    unavailable(reply, fault)
    assert _receipt_items(with_notice.account.tenant_number) == []
    first = client.post("/v1/documents/receipts", {"period": "2019-05"}, token=with_notice.access_token)
    assert first.status == 201, first.text
    again = client.post("/v1/documents/receipts", {"period": "2019-05"}, token=with_notice.access_token)
    assert again.status == 200 and again.json() == first.json()
    assert len(_receipt_items(with_notice.account.tenant_number)) == 1


def test_notice_listing_failing_is_503(client, with_notice, inject):
    fault = inject("dynamodb", "Query", THROTTLED)
    unavailable(client.get("/v1/documents", token=with_notice.access_token), fault)
    assert len(client.get("/v1/documents", token=with_notice.access_token).json()["items"]) == 1


@pytest.mark.parametrize(("service", "operation", "after"), [("dynamodb", "GetItem", 0), ("s3", "PutObject", 0)])
def test_notice_download_failing_is_503(client, with_notice, inject, service, operation, after):
    [notice] = client.get("/v1/documents", token=with_notice.access_token).json()["items"]
    # A notice whose PDF is not stored yet is rendered on download: the S3 write can fail there.
    oph_aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key={"pk": {"S": f"TENANT#{with_notice.account.tenant_number}"}, "sk": {"S": f"DOC#{notice['id']}"}},
        UpdateExpression="REMOVE rendered_at",
    )
    fault = inject(service, operation, THROTTLED if service == "dynamodb" else "SlowDown", after=after)
    path = f"/v1/documents/{notice['id']}/download"
    unavailable(client.get(path, token=with_notice.access_token), fault)
    reply = client.get(path, token=with_notice.access_token)
    assert reply.status == 200 and reply.json()["filename"] == "avis-echeance-2019-05.pdf"


# ---------------------------------------------------------------- the movements import
MOVEMENTS_HEADER = "tenant_number;date;label;amount;reference"


def _movement_rows(numbers: list[str], count: int, start: int = 1) -> list[str]:
    return [f"{n};01/01/2019;Loyer {i};{i},00;R-{i}" for n in numbers for i in range(start, start + count)]


def _import_movements(runtime: Any, aws: Any, rows: list[str]) -> dict[str, Any]:
    from tests.handlers.test_import_support import csv_bytes, run_import

    return run_import(runtime, aws, "movements", f"{uuid.uuid4().hex}.csv", csv_bytes(MOVEMENTS_HEADER, rows))


def test_movement_write_failing_midway_rejects_its_rows_and_writes_none_of_them(runtime, aws, inject):
    from oph.imports.report import STORE_FAILURE
    from oph.tenancy.store import TenancyStore

    numbers = [make_tenant().holder.tenant_number for _ in range(3)]
    rows = _movement_rows(numbers, 60)  # one transaction per tenancy (60 movements and its flag)
    fault = inject("dynamodb", "TransactWriteItems", THROTTLED, after=1)
    report = _import_movements(runtime, aws, rows)
    assert fault.fired == 1
    assert {r["reason"] for r in report["rejected"]} == {STORE_FAILURE}
    lines = sorted(r["line"] for r in report["rejected"])
    assert len(lines) == 60 and report["rows_accepted"] == 120
    failed = numbers[(lines[0] - 2) // 60]
    assert lines == list(range(2 + 60 * numbers.index(failed), 62 + 60 * numbers.index(failed)))
    store = TenancyStore()
    assert store.movements(failed) == [] and store.get_tenancy(failed).has_movements is False
    assert all(len(store.movements(n)) == 60 for n in numbers if n != failed)
    again = _import_movements(runtime, aws, rows)
    assert (again["rows_accepted"], again["rejected"]) == (180, [])
    assert [len(store.movements(n)) for n in numbers] == [60, 60, 60]


def test_movement_write_conflicting_is_tried_again(runtime, aws, inject):
    from oph.tenancy.store import TenancyStore

    number = make_tenant().holder.tenant_number
    fault = inject("dynamodb", "TransactWriteItems", CONFLICT)
    report = _import_movements(runtime, aws, _movement_rows([number], 3))
    assert fault.fired == 1
    assert (report["rows_accepted"], report["rejected"]) == (3, [])
    assert len(TenancyStore().movements(number)) == 3


def test_stored_movements_unreadable_reject_that_batchs_rows_only(runtime, aws, inject, monkeypatch):
    from oph.imports import movements
    from oph.imports.report import STORE_FAILURE
    from oph.tenancy.store import TenancyStore

    monkeypatch.setattr(movements, "WRITE_BATCH", 2)  # one batch per tenancy
    numbers = [make_tenant().holder.tenant_number for _ in range(2)]
    _import_movements(runtime, aws, _movement_rows(numbers, 2))
    fault = inject("dynamodb", "BatchGetItem", THROTTLED, after=1)  # the tenancies, then a batch's movements
    report = _import_movements(runtime, aws, _movement_rows(numbers, 2, start=3))
    assert fault.fired == 1
    assert [r["reason"] for r in report["rejected"]] == [STORE_FAILURE, STORE_FAILURE]
    counts = sorted(len(TenancyStore().movements(n)) for n in numbers)
    assert counts == [2, 4] and report["rows_accepted"] == 2


def test_balance_check_unreadable_is_a_warning_and_the_balance_is_recorded(runtime, aws, inject):
    from oph.tenancy.store import TenancyStore
    from tests.handlers.test_import_support import TENANT_HEADER, csv_bytes, run_import

    number = make_tenant().holder.tenant_number
    _import_movements(runtime, aws, _movement_rows([number], 2))
    fault = inject("dynamodb", "Query", THROTTLED)
    row = f"{number};MARTIN;Sophie;1980-02-29;C;T;1 Rue;93300;AUBERVILLIERS;12,00;2019-06-01"
    report = run_import(runtime, aws, "tenants", f"{uuid.uuid4().hex}.csv", csv_bytes(TENANT_HEADER, [row]))
    assert fault.fired == 1
    assert (report["rows_accepted"], report["rejected"]) == (1, [])
    assert [w["reason"] for w in report["warnings"]] == [
        "Solde non comparé aux mouvements du compte (service momentanément indisponible) : "
        "déposez le fichier à nouveau pour le vérifier."
    ]
    assert TenancyStore().get_tenancy(number).balance_cents == 1200


# ---------------------------------------------------------------- accounting
@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(f"\nfault injection: {TOTAL['faults']} faults injected")


# ---------------------------------------------------------------- security revision 4's new writes
def test_step1_charge_throttled_is_503_and_counts_nothing(client, runtime, inject):
    tenant = make_tenant()
    fault = inject("dynamodb", "UpdateItem")  # the conditional charge of the first counter
    unavailable(client.post("/v1/registrations/identity", identity_of(tenant)), fault)
    from oph.accounts.identity_check import TENANT_FAILURES
    from oph.platform.rate_limit_store import RateLimiter, hashed

    assert RateLimiter().current(TENANT_FAILURES, hashed(tenant.holder.tenant_number))[0] == 0
    assert client.post("/v1/registrations/identity", identity_of(tenant)).status == 200


def test_disabling_with_the_database_failing_changes_nothing_and_the_retry_disables(client, member, outbox, inject):
    from oph.accounts.account_store import account_store
    from oph.accounts.admin import set_disabled
    from oph.platform.errors import ServiceUnavailable

    assert client.post("/v1/auth/password/forgot", {"email": member.account.email}).status == 202
    link = link_token(outbox, member.account.email, "reset-password")
    before = account_store().get(member.account.account_id)
    fault = inject("dynamodb", "TransactWriteItems")
    with pytest.raises(ServiceUnavailable):
        set_disabled(member.account.email, True)
    assert fault.fired == 1
    after = account_store().get(member.account.account_id)
    assert (after.disabled, after.session_generation) == (before.disabled, before.session_generation)
    assert client.get("/links/reset-password", query=f"token={link}").status == 200  # link not voided half-way
    assert set_disabled(member.account.email, True)
    assert client.get("/v1/account", token=member.access_token).status == 403
    assert client.get("/links/reset-password", query=f"token={link}").status == 400


def test_password_change_failing_keeps_the_links_it_would_have_voided(client, member, outbox, inject):
    assert client.post("/v1/auth/password/forgot", {"email": member.account.email}).status == 202
    link = link_token(outbox, member.account.email, "reset-password")
    body = {
        "current_password": PASSWORD,
        "new_password": "Velo-Rouge-Tulipe-93",
        "new_password_confirmation": "Velo-Rouge-Tulipe-93",
    }
    fault = inject("dynamodb", "TransactWriteItems")
    unavailable(client.put("/v1/account/password", body, token=member.access_token), fault)
    assert client.get("/links/reset-password", query=f"token={link}").status == 200
    assert client.put("/v1/account/password", body, token=member.access_token).status == 200
    assert client.get("/links/reset-password", query=f"token={link}").status == 400


def test_payment_creation_failing_is_not_counted_against_the_hourly_limit(client, member, inject):
    fault = inject("dynamodb", "TransactWriteItems")
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    unavailable(client.post("/v1/payments", {"amount_cents": 10000}, headers=headers, token=member.access_token), fault)
    for _ in range(10):  # the failed attempt was given back: ten creations are still allowed
        reply = client.post(
            "/v1/payments",
            {"amount_cents": 10000},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            token=member.access_token,
        )
        assert reply.status == 201, reply.text


# ---------------------------------------------------------------- direct debit (contract section 8)
MANDATE_PATH = "/v1/payments/direct-debit"
HTTP_STATUS.update({"KMSInternalException": 500, "DisabledException": 400})
MANDATE_FORM = {
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "account_holder": "MARTIN Sophie",
    "debit_day": 10,
    "accept_mandate": True,
    "current_password": PASSWORD,
}


def _mandate_items(tenant_number: str) -> dict[str, Any]:
    """Everything the signature and the revocation write: the tenancy's mandate items, their
    day index lines, the listed mandate documents."""
    items = scan(get_settings().tenants_table)
    ours = [i for i in items if i["pk"] == f"TENANT#{tenant_number}"]
    return {
        "mandates": [i for i in ours if str(i["sk"]).startswith("MANDATE")],
        "documents": [i for i in ours if str(i["sk"]).startswith("DOC#") and i.get("type") == "mandate"],
        "lines": [i for i in items if str(i["pk"]).startswith("MANDATES#") and i.get("tenant_number") == tenant_number],
    }


def _nothing_signed(member: Any) -> None:
    assert _mandate_items(member.account.tenant_number) == {"mandates": [], "documents": [], "lines": []}


def _sign(client: Any, member: Any) -> Any:
    return client.put(MANDATE_PATH, MANDATE_FORM, token=member.access_token)


@pytest.mark.parametrize(
    ("service", "operation", "code", "after"),
    [
        ("kms", "Encrypt", "KMSInternalException", 0),
        ("kms", "Encrypt", "DisabledException", 0),
        ("kms", "Encrypt", "ThrottlingException", 0),
        ("s3", "PutObject", "SlowDown", 0),  # the mandate PDF
        ("dynamodb", "TransactWriteItems", THROTTLED, 0),
        ("dynamodb", "TransactWriteItems", CONFLICT, 0),
        ("dynamodb", "GetItem", THROTTLED, 1),  # the tenancy's current mandate (after the login lock's)
        ("dynamodb", "BatchGetItem", THROTTLED, 1),  # the tenancy and holder the PDF shows (after the verifier's)
    ],
)
def test_signing_failing_midway_writes_nothing_and_the_retry_signs(
    client, member, outbox, inject, service, operation, code, after
):
    fault = inject(service, operation, code, after=after)
    unavailable(_sign(client, member), fault)
    _nothing_signed(member)
    assert [m for m in outbox() if "prélèvement" in m["subject"]] == []
    assert client.get(MANDATE_PATH, token=member.access_token).json()["status"] == "none"
    reply = _sign(client, member)
    assert reply.status == 201, reply.text
    written = _mandate_items(member.account.tenant_number)
    assert [len(written[k]) for k in ("mandates", "documents", "lines")] == [1, 1, 1]
    assert written["mandates"][0]["document_id"] == written["documents"][0]["doc_id"] == reply.json()["document_id"]


@pytest.mark.parametrize("code", ["MessageRejected", "ServiceUnavailable"])
def test_signing_committed_then_mail_failing_still_answers_201(client, member, outbox, inject, code):
    fault = inject("sesv2", "SendEmail", code)
    reply = _sign(client, member)
    assert reply.status == 201 and fault.fired == 1, reply.text
    assert client.get(MANDATE_PATH, token=member.access_token).json() == reply.json()
    assert _sign(client, member).status == 409


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "TransactWriteItems", THROTTLED),
        ("dynamodb", "TransactWriteItems", CONFLICT),
        ("dynamodb", "GetItem", THROTTLED),
    ],
)
def test_revoking_failing_changes_nothing_and_the_retry_revokes(client, member, inject, service, operation, code):
    signed = _sign(client, member).json()
    fault = inject(service, operation, code, after=1 if operation == "GetItem" else 0)  # after the login lock's
    unavailable(client.delete(MANDATE_PATH, {"current_password": PASSWORD}, token=member.access_token), fault)
    assert client.get(MANDATE_PATH, token=member.access_token).json() == signed
    assert [line["action"] for line in _mandate_items(member.account.tenant_number)["lines"]] == ["create"]
    reply = client.delete(MANDATE_PATH, {"current_password": PASSWORD}, token=member.access_token)
    assert reply.status == 200 and reply.json()["status"] == "revocation_pending"
    assert sorted(line["action"] for line in _mandate_items(member.account.tenant_number)["lines"]) == [
        "create",
        "revoke",
    ]


def test_revoking_committed_then_mail_failing_still_answers_200(client, member, inject):
    _sign(client, member)
    fault = inject("sesv2", "SendEmail", "MessageRejected")
    reply = client.delete(MANDATE_PATH, {"current_password": PASSWORD}, token=member.access_token)
    assert reply.status == 200 and fault.fired == 1
    assert client.get(MANDATE_PATH, token=member.access_token).json()["status"] == "revocation_pending"


def test_deleting_a_signer_failing_leaves_account_and_mandate_linked_then_the_retry_does_both(client, member, inject):
    _sign(client, member)
    fault = inject("dynamodb", "TransactWriteItems")
    unavailable(client.delete("/v1/account", {"current_password": PASSWORD}, token=member.access_token), fault)
    [mandate] = _mandate_items(member.account.tenant_number)["mandates"]
    assert mandate["signed_by"] == member.account.account_id
    assert member.account.account_id in assert_accounts_consistent()
    assert client.delete("/v1/account", {"current_password": PASSWORD}, token=member.access_token).status == 204
    [mandate] = _mandate_items(member.account.tenant_number)["mandates"]
    assert "signed_by" not in mandate and mandate["status"] == "pending"
    assert member.account.account_id not in assert_accounts_consistent()
