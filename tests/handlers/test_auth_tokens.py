"""The shared verifier on every function: the negative JWT matrix, revocation (logout,
rotation reuse, reset, disabling), and 403 account_disabled on every authenticated route."""

from __future__ import annotations

import base64
import importlib
import json
import re

import jwt as pyjwt
import pytest

from oph.accounts import access_tokens as auth
from oph.accounts.signing_key_store import signing_key_store
from oph.platform import clock
from oph.platform.office import get_office
from tests.factories import PASSWORD, log_in, make_account, make_tenant
from tests.twins.accounts import MemorySigningKeyStore

# One authenticated route of each function that has them.
PROBES = ["/v1/account", "/v1/documents", "/v1/payments/balance"]
UNAUTHORIZED_TITLE = "Authentification requise ou session expirée."


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _assert_unauthorized(reply):
    assert reply.status == 401, reply.text
    body = reply.json()
    assert body["code"] == "unauthorized"
    assert body["title"] == UNAUTHORIZED_TITLE
    assert reply.header("Content-Type") == "application/problem+json"


@pytest.fixture
def session(runtime):
    return log_in(make_account(make_tenant()))


def _claims(session, **changes):
    now = int(clock.now_ts())
    claims = {
        "iss": auth.ISSUER,
        "aud": auth.AUDIENCE,
        "sub": session.account.account_id,
        "sid": session.session_id,
        "gen": session.account.session_generation,
        "iat": now,
        "exp": now + 900,
        "jti": "j1",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims, key=None, kid=None, alg="HS256"):
    keys = auth.signing_keys()
    return pyjwt.encode(claims, key or keys.key, algorithm=alg, headers={"kid": kid or keys.kid})


FORGERIES = {
    "alg_none": lambda s: f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': auth.signing_keys().kid})}.{_b64(_claims(s))}.",
    "alg_none_with_signature": lambda s: (
        f"{_b64({'alg': 'none', 'kid': auth.signing_keys().kid})}.{_b64(_claims(s))}.{s.access_token.split('.')[2]}"
    ),
    "wrong_key": lambda s: _sign(_claims(s), key=b"another-secret-key-of-32-bytes!!"),
    "wrong_kid": lambda s: _sign(_claims(s), kid="not-a-key"),
    "other_hmac_alg": lambda s: _sign(_claims(s), alg="HS512"),
    "expired": lambda s: _sign(_claims(s, iat=int(clock.now_ts()) - 1000, exp=int(clock.now_ts()) - 100)),
    "future_iat": lambda s: _sign(_claims(s, iat=int(clock.now_ts()) + 3600, exp=int(clock.now_ts()) + 4500)),
    "wrong_aud": lambda s: _sign(_claims(s, aud="another-app")),
    "wrong_iss": lambda s: _sign(_claims(s, iss="https://evil.example")),
    "missing_jti": lambda s: _sign(_claims(s, jti=None)),
    "missing_exp": lambda s: _sign(_claims(s, exp=None)),
    "other_account": lambda s: _sign(_claims(s, sub="00000000-0000-0000-0000-000000000000")),
    "stale_generation": lambda s: _sign(_claims(s, gen=s.account.session_generation - 1)),
    "tampered_payload": lambda s: ".".join(
        [s.access_token.split(".")[0], _b64(_claims(s, exp=int(clock.now_ts()) + 99999)), s.access_token.split(".")[2]]
    ),
    "truncated_signature": lambda s: s.access_token[:-4],
    "garbage": lambda s: "not-a-jwt",
    "refresh_token_as_access_token": lambda s: None,  # filled in the test (needs a real login)
}


@pytest.mark.parametrize("path", PROBES)
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_or_invalid_access_tokens_are_401(client, session, path, forgery):
    if forgery == "refresh_token_as_access_token":
        token = client.post("/v1/auth/login", {"email": session.account.email, "password": PASSWORD}).json()[
            "refresh_token"
        ]
    else:
        token = FORGERIES[forgery](session)
    assert client.get(path, token=session.access_token).status != 401  # the genuine token passes
    _assert_unauthorized(client.get(path, token=token))


@pytest.mark.parametrize("path", PROBES)
@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer " + "a" * 5000])
def test_missing_or_malformed_authorization_is_401(client, runtime, path, header):
    _assert_unauthorized(client.get(path, headers={"Authorization": header} if header else {}))


@pytest.mark.parametrize("path", PROBES)
def test_access_token_expires_after_15_minutes(client, session, clock_offset, path):
    # iat is a whole second and a loaded machine may take seconds between login and use:
    # "still valid" is checked a little before the end, "expired" just after it.
    clock_offset(880)
    assert client.get(path, token=session.access_token).status != 401
    clock_offset(901)
    _assert_unauthorized(client.get(path, token=session.access_token))


def test_previous_signing_key_is_accepted_by_kid_during_rotation(client, session):
    keys = auth.signing_keys()
    rotated = auth.SigningKeys("k2", b"the-new-key-after-rotation-32-by", {keys.kid: keys.key})
    # pretend the secret now holds k2 with the old key as previous
    with signing_key_store.override(MemorySigningKeyStore(rotated)):  # type: ignore[arg-type]
        assert client.get("/v1/account", token=session.access_token).status != 401
        new_token = auth.issue_access_token(session.account.account_id, session.session_id, 0)
        assert pyjwt.get_unverified_header(new_token)["kid"] == "k2"
        assert client.get("/v1/account", token=new_token).status != 401


class _CountingSecrets:
    """The real Secrets Manager client, counting reads."""

    def __init__(self, real):
        self.real, self.reads = real, 0

    def __getattr__(self, name):
        attribute = getattr(self.real, name)
        if name != "get_secret_value":
            return attribute

        def counted(**kwargs):
            self.reads += 1
            return attribute(**kwargs)

        return counted


def test_a_key_rotated_elsewhere_is_picked_up_at_once_not_after_five_minutes(client, session, monkeypatch):
    # Security revision 4: a container caching the old key used to refuse tokens signed by a
    # container that already had the rotated key, for up to 5 minutes. An unknown kid now
    # makes it re-read the secret, at most once a minute.
    from oph.platform import aws
    from oph.platform.settings import get_settings

    keys = auth.signing_keys()  # this container has cached k1
    rotated = {
        "kid": "k2",
        "key": "la-nouvelle-cle-apres-rotation-de-64-caracteres-au-moins-0123456",
        "previous_kid": keys.kid,
        "previous_key": keys.key.decode(),
    }
    aws.secretsmanager().put_secret_value(SecretId=get_settings().jwt_secret_arn, SecretString=json.dumps(rotated))
    counting = _CountingSecrets(aws.secretsmanager())
    monkeypatch.setattr(aws, "secretsmanager", lambda: counting)
    signed_elsewhere = _sign(_claims(session), key=rotated["key"].encode(), kid="k2")
    assert client.get("/v1/account", token=signed_elsewhere).status == 200
    assert counting.reads == 1
    unknown = _sign(_claims(session), key=b"a-key-nobody-has-of-32-bytes-xx!", kid="k9")
    for _ in range(3):  # an unknown kid is 401, and never more than one read a minute
        assert client.get("/v1/account", token=unknown).status == 401
    assert counting.reads == 1


# -- every authenticated route of the template answers 403 account_disabled


def _authenticated_routes():
    from devserver import template

    routes = []
    for fn in template.functions():
        if not fn.routes:
            continue
        module = importlib.import_module(fn.module)
        public = getattr(getattr(module, "api", None), "public", frozenset())
        for route in fn.routes:
            resolver_path = re.sub(r"\{([^}]+)\}", r"<\1>", route.path)
            if route.path.startswith("/v1/") and f"{route.method} {resolver_path}" not in public:
                routes.append((route.method, re.sub(r"\{[^}]+\}", "x", route.path)))
    return routes


AUTHENTICATED = _authenticated_routes()


def test_the_template_has_authenticated_routes_in_every_api_function():
    paths = {p for _, p in AUTHENTICATED}
    assert {"/v1/account", "/v1/documents", "/v1/payments/balance"} <= paths
    assert not any(p.startswith("/v1/auth/") for p in paths)


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
def test_disabled_account_is_403_on_every_authenticated_route(client, session, method, path):
    from oph.accounts.admin import set_disabled

    assert set_disabled(session.account.email, True)
    reply = client.request(
        method, path, json_body={} if method in ("POST", "PUT", "DELETE") else None, token=session.access_token
    )
    assert reply.status == 403, reply.text
    body = reply.json()
    assert body["code"] == "account_disabled"
    assert (
        body["title"] == f"Votre compte a été désactivé. Contactez l'Office au {get_office().phone} pour le réactiver."
    )
    # a fresh token cannot be had while disabled, and the old one dies when re-enabled
    assert set_disabled(session.account.email, False)
    _assert_unauthorized(
        client.request(
            method, path, json_body={} if method in ("POST", "PUT", "DELETE") else None, token=session.access_token
        )
    )


def test_set_disabled_unknown_email_is_false(runtime):
    from oph.accounts.admin import set_disabled

    assert set_disabled("personne@exemple.com", True) is False


def test_the_admin_function_disables_and_reenables_as_the_runbook_says(client, session, runtime):
    # The runbook's way: Lambda console -> <stack>-account-admin -> Test.
    result = runtime.invoke("AccountAdminFunction", {"email": session.account.email.upper(), "disabled": True})
    assert result == {"email": session.account.email, "disabled": True, "found": True}
    assert client.get("/v1/account", token=session.access_token).status == 403
    assert runtime.invoke("AccountAdminFunction", {"email": session.account.email, "disabled": False})["found"]
    _assert_unauthorized(client.get("/v1/account", token=session.access_token))  # never revived
    assert runtime.invoke("AccountAdminFunction", {"email": "personne@exemple.com", "disabled": True})["found"] is False


def test_an_account_disabled_by_hand_revokes_its_sessions_by_itself(client, session):
    # Security revision 4: the old runbook relied on the admin bumping session_generation by
    # hand; an admin who only set ``disabled`` revived every token when re-enabling.
    from oph.accounts.account_store import account_key
    from oph.platform import aws
    from oph.platform.settings import get_settings

    def console_edit(disabled: bool) -> None:
        aws.dynamodb().update_item(
            TableName=get_settings().tenants_table,
            Key=account_key(session.account.account_id),
            UpdateExpression="SET disabled = :d",
            ExpressionAttributeValues={":d": {"BOOL": disabled}},
        )

    console_edit(True)
    assert client.get("/v1/account", token=session.access_token).json()["code"] == "account_disabled"
    console_edit(False)
    _assert_unauthorized(client.get("/v1/account", token=session.access_token))


# -- sessions: rotation, reuse, logout, reset, global revocation


def _login(client, account, password=PASSWORD):
    reply = client.post("/v1/auth/login", {"email": account.email, "password": password})
    assert reply.status == 200, reply.text
    return reply.json()


def _refresh(client, token):
    return client.post("/v1/auth/refresh", {"refresh_token": token})


@pytest.fixture
def account(runtime):
    return make_account(make_tenant())


def test_refresh_rotates_the_refresh_token(client, account):
    first = _login(client, account)
    second = _refresh(client, first["refresh_token"])
    assert second.status == 200
    body = second.json()
    assert set(body) == set(first)
    assert body["refresh_token"] != first["refresh_token"]
    assert body["expires_in"] == 900 and body["refresh_expires_in"] == 2592000
    assert client.get("/v1/account", token=body["access_token"]).status != 401
    third = _refresh(client, body["refresh_token"])
    assert third.status == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(client, account):
    first = _login(client, account)
    other_device = _login(client, account)
    second = _refresh(client, first["refresh_token"]).json()
    _assert_unauthorized(_refresh(client, first["refresh_token"]))  # replay
    _assert_unauthorized(_refresh(client, second["refresh_token"]))  # the successor is dead too
    _assert_unauthorized(client.get("/v1/account", token=second["access_token"]))
    _assert_unauthorized(client.get("/v1/account", token=first["access_token"]))
    # another session of the same account is not touched
    assert client.get("/v1/account", token=other_device["access_token"]).status != 401
    assert _refresh(client, other_device["refresh_token"]).status == 200


def test_logout_revokes_refresh_and_access_tokens(client, account):
    tokens = _login(client, account)
    other = _login(client, account)
    reply = client.post("/v1/auth/logout", {"refresh_token": tokens["refresh_token"]})
    assert reply.status == 204 and reply.body == b""
    _assert_unauthorized(_refresh(client, tokens["refresh_token"]))
    _assert_unauthorized(client.get("/v1/account", token=tokens["access_token"]))
    assert client.get("/v1/account", token=other["access_token"]).status != 401
    # logging out twice, or with an unknown token, is harmless
    assert client.post("/v1/auth/logout", {"refresh_token": tokens["refresh_token"]}).status == 204
    assert client.post("/v1/auth/logout", {"refresh_token": "inconnu"}).status == 204


@pytest.mark.parametrize("token", ["", "x", "a" * 600, "é" * 50])
def test_unknown_refresh_tokens_are_401(client, runtime, token):
    _assert_unauthorized(_refresh(client, token))


def test_refresh_token_expires_after_30_days(client, account, clock_offset):
    tokens = _login(client, account)
    clock_offset(30 * 24 * 3600 + 1)
    _assert_unauthorized(_refresh(client, tokens["refresh_token"]))


def test_revoke_all_sessions_refuses_every_token(client, account):
    from oph.accounts.sessions import revoke_all_sessions

    a, b = _login(client, account), _login(client, account)
    revoke_all_sessions(account.account_id)
    for tokens in (a, b):
        _assert_unauthorized(client.get("/v1/account", token=tokens["access_token"]))
        _assert_unauthorized(_refresh(client, tokens["refresh_token"]))
    assert client.get("/v1/account", token=_login(client, account)["access_token"]).status != 401


def test_disabling_revokes_sessions_until_the_holder_logs_in_again(client, account):
    from oph.accounts.admin import set_disabled

    tokens = _login(client, account)
    set_disabled(account.email, True)
    assert client.get("/v1/account", token=tokens["access_token"]).json()["code"] == "account_disabled"
    _assert_unauthorized(_refresh(client, tokens["refresh_token"]))
    set_disabled(account.email, False)
    _assert_unauthorized(client.get("/v1/account", token=tokens["access_token"]))
    _assert_unauthorized(_refresh(client, tokens["refresh_token"]))
    assert client.get("/v1/account", token=_login(client, account)["access_token"]).status != 401


def test_start_session_refuses_a_stale_generation(account):
    from oph.accounts.sessions import revoke_all_sessions, start_session
    from oph.platform.errors import Unauthorized

    revoke_all_sessions(account.account_id)
    with pytest.raises(Unauthorized):
        start_session(account)  # generation 0, the account is at 1
    account.session_generation = 1
    assert start_session(account)["token_type"] == "Bearer"


def test_factories_session_shape_is_accepted(client, account):
    session = log_in(account)
    assert client.get("/v1/account", token=session.access_token).status != 401
