"""POST /v1/auth/login: token pair, one answer for unknown e-mail and wrong password, 403s,
long passwords, and the CNIL throttling curve with the clock moved."""

from __future__ import annotations

import base64
import json

import pytest

from oph.accounts import model as accounts
from oph.accounts.account_store import account_key, account_store
from oph.platform import aws
from oph.platform.office import get_office
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, log_in, make_account, make_tenant

INVALID = {
    "type": "about:blank",
    "status": 401,
    "code": "invalid_credentials",
    "title": "Adresse e-mail ou mot de passe incorrect.",
}


def _claims(jwt: str) -> tuple[dict, dict]:
    header, payload, _ = jwt.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(base64.urlsafe_b64decode(pad(payload)))


def _login(client, email, password):
    return client.post("/v1/auth/login", {"email": email, "password": password})


def _without_request_id(reply):
    body = reply.json()
    assert body.pop("request_id") == reply.header("X-Request-Id")
    return body


@pytest.fixture
def account(runtime):
    return make_account(make_tenant())


def test_login_returns_the_contract_token_pair(client, account):
    reply = _login(client, account.email, PASSWORD)
    assert reply.status == 200, reply.text
    assert reply.header("Content-Type") == "application/json; charset=utf-8"
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_expires_in"] == 2592000
    header, claims = _claims(body["access_token"])
    assert header["alg"] == "HS256" and header["kid"]
    assert {"iss", "aud", "sub", "iat", "exp", "jti"} <= set(claims)
    assert claims["sub"] == account.account_id
    assert claims["exp"] - claims["iat"] == 900
    # opaque refresh token of at least 128 random bits, not a JWT
    assert len(base64.urlsafe_b64decode(body["refresh_token"] + "=" * (-len(body["refresh_token"]) % 4))) >= 16
    assert body["refresh_token"].count(".") == 0
    # the access token works on an authenticated route
    assert client.get("/v1/account", token=body["access_token"]).status != 401


def test_refresh_token_is_stored_only_as_a_hash(client, account):
    body = _login(client, account.email, PASSWORD).json()
    dump = json.dumps(aws.dynamodb().scan(TableName=get_settings().tokens_table)["Items"])
    assert body["refresh_token"] not in dump
    assert body["access_token"] not in dump


def test_email_is_normalised(client, account):
    assert _login(client, "  " + account.email.upper() + " ", PASSWORD).status == 200


def test_unknown_email_and_wrong_password_get_the_same_answer(client, account):
    unknown = _login(client, "personne-inconnue@exemple.com", PASSWORD)
    wrong = _login(client, account.email, "Mauvais-Mot-2-Passe")
    assert unknown.status == wrong.status == 401
    assert _without_request_id(unknown) == _without_request_id(wrong) == INVALID
    assert unknown.header("Content-Type") == wrong.header("Content-Type") == "application/problem+json"
    assert set(unknown.headers) == set(wrong.headers)


def test_pending_account_gets_email_not_verified_only_with_the_right_password(client, runtime):
    account = make_account(make_tenant())
    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(account.account_id),
        UpdateExpression="SET #s = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": accounts.PENDING}},
    )
    wrong = _login(client, account.email, "Mauvais-Mot-2-Passe")
    assert wrong.status == 401 and wrong.json()["code"] == "invalid_credentials"
    right = _login(client, account.email, PASSWORD)
    assert right.status == 403
    body = right.json()
    assert body["code"] == "email_not_verified"
    assert body["title"] == "Votre adresse e-mail n'est pas encore confirmée. Consultez le lien reçu par e-mail."


def test_disabled_account_gets_account_disabled_only_with_the_right_password(client, account):
    from oph.accounts.admin import set_disabled

    assert set_disabled(account.email, True)
    wrong = _login(client, account.email, "Mauvais-Mot-2-Passe")
    assert wrong.status == 401 and wrong.json()["code"] == "invalid_credentials"
    right = _login(client, account.email, PASSWORD)
    assert right.status == 403
    body = right.json()
    assert body["code"] == "account_disabled"
    assert (
        body["title"] == f"Votre compte a été désactivé. Contactez l'Office au {get_office().phone} pour le réactiver."
    )
    assert set_disabled(account.email, False)
    assert _login(client, account.email, PASSWORD).status == 200


@pytest.mark.parametrize(
    "password",
    [
        "Éléphant-Rosé-Château-" + "é" * 40,  # over 72 bytes in UTF-8
        "Aa1!" + "x" * 996,  # 1,000 characters
        "🔑Clé-" + "😀" * 30,  # 4-byte characters
    ],
)
def test_long_and_multibyte_passwords_are_handled(client, runtime, password):
    account = make_account(make_tenant(), password=password)
    assert _login(client, account.email, password).status == 200
    # every character counts: a password differing only after the 72nd byte is refused
    assert _login(client, account.email, password[:-1] + "Z").status == 401


@pytest.mark.parametrize("password", ["é" * 1000, "x" * 1000, "\U0001f600" * 1000, "a\x00b" * 300])
def test_long_wrong_passwords_never_500(client, account, password):
    assert _login(client, account.email, password).json()["code"] == "invalid_credentials"
    assert _login(client, "inconnu@exemple.com", password).json()["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"password": "x"}, "email", "required"),
        ({"email": "a@b.fr"}, "password", "required"),
        ({"email": 12, "password": "x"}, "email", "invalid_format"),
        ({"email": "a@b.fr", "password": "x", "remember": True}, "remember", "unknown_field"),
    ],
)
def test_login_validation(client, runtime, body, field, code):
    reply = client.post("/v1/auth/login", body)
    assert reply.status == 422
    assert {"field": field, "code": code} in [{k: e[k] for k in ("field", "code")} for e in reply.json()["errors"]]


# -- throttling


def _fail(client, email):
    return _login(client, email, "Mauvais-Mot-2-Passe")


def _assert_locked(reply, retry_after):
    assert reply.status == 429, reply.text
    body = reply.json()
    assert body["code"] == "too_many_requests"
    assert body["title"] == "Trop de tentatives. Veuillez réessayer plus tard."
    assert reply.header("Retry-After") == str(retry_after)


@pytest.mark.parametrize("known", [True, False])
def test_throttling_curve(client, runtime, clock_offset, known):
    email = make_account(make_tenant()).email if known else "jamais-inscrit@exemple.com"
    for _ in range(5):  # five free failures
        assert _fail(client, email).status == 401
    offset = 0
    for n in range(5, 17):  # after the n-th failure the next attempt waits 2^(n-5) s, capped at 15 min
        delay = min(2 ** (n - 5), 900)
        _assert_locked(_fail(client, email), delay)
        # refused attempts neither count nor extend: the same delay again, even with the right password
        _assert_locked(_login(client, email, PASSWORD), delay)
        if delay > 1:
            clock_offset(offset + delay - 1)
            _assert_locked(_fail(client, email), 1)
        offset += delay
        clock_offset(offset)
        assert _fail(client, email).status == 401  # allowed again, and counted


def test_success_resets_the_counter(client, account, clock_offset):
    for _ in range(5):
        _fail(client, account.email)
    _assert_locked(_login(client, account.email, PASSWORD), 1)
    clock_offset(1)
    assert _login(client, account.email, PASSWORD).status == 200
    for _ in range(5):  # five free failures again
        assert _fail(client, account.email).status == 401
    _assert_locked(_fail(client, account.email), 1)


def test_throttle_is_keyed_by_the_normalised_email(client, account):
    for variant in [account.email, account.email.upper(), " " + account.email, account.email + " ", account.email]:
        assert _fail(client, variant).status == 401
    _assert_locked(_fail(client, account.email.title()), 1)


def test_lock_does_not_touch_other_emails_or_valid_tokens(client, runtime):
    from tests.factories import log_in

    account = make_account(make_tenant())
    session = log_in(account)
    for _ in range(6):
        _fail(client, account.email)
    _assert_locked(_fail(client, account.email), 1)
    assert client.get("/v1/account", token=session.access_token).status != 401  # account routes not locked
    other = make_account(make_tenant())
    assert _login(client, other.email, PASSWORD).status == 200


def test_wrong_current_password_counts_as_a_login_failure(client, account):
    session = log_in(account)
    for _ in range(5):
        reply = client.delete("/v1/account", {"current_password": "Mauvais-Mot-2-Passe"}, token=session.access_token)
        assert reply.status == 403, reply.text
    _assert_locked(_login(client, account.email, PASSWORD), 1)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("DELETE", "/v1/account", {}),
        (
            "PUT",
            "/v1/account/password",
            {"new_password": "Velo-Rouge-Tulipe-93", "new_password_confirmation": "Velo-Rouge-Tulipe-93"},
        ),
        ("POST", "/v1/account/email", {"new_email": "nouvelle.adresse@exemple.com"}),
    ],
)
def test_current_password_routes_obey_the_login_lock_before_looking_at_the_password(
    client, account, method, path, body
):
    # Security revision 4: with a stolen access token, the current password cannot be guessed
    # past the lock: while it holds, even the right password gets 429 and nothing changes.
    session = log_in(account)
    for _ in range(5):
        _fail(client, account.email)
    reply = client.request(method, path, json_body={**body, "current_password": PASSWORD}, token=session.access_token)
    _assert_locked(reply, 1)
    assert client.get("/v1/account", token=session.access_token).status == 200  # not deleted, not changed
    stored = account_store().get(account.account_id)
    assert stored is not None and stored.email == account.email and stored.password_hash == account.password_hash


def test_throttle_counters_expire_with_a_ttl(client, account):
    for _ in range(3):
        _fail(client, account.email)
    items = aws.dynamodb().scan(TableName=get_settings().tokens_table)["Items"]
    counters = [i for i in items if i["pk"]["S"].startswith("LOGINFAIL#")]
    assert len(counters) == 1
    assert account.email not in json.dumps(counters)  # keyed by a hash, never the address
    assert int(counters[0]["expires_at"]["N"]) > 0
