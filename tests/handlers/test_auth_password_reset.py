"""Forgotten password: POST /v1/auth/password/forgot and /reset, and the /links page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import unquote, urlencode

import pytest

from oph.accounts import model as accounts
from oph.accounts import no_enumeration
from oph.accounts.account_store import account_key
from oph.platform import aws, clock
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, log_in, make_account, make_tenant

NEW = "Nouveau-Mdp-2024!"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(autouse=True)
def _fast_forgot(monkeypatch):
    monkeypatch.setattr(no_enumeration, "MIN_SECONDS", 0.0)


@pytest.fixture
def account(runtime):
    return make_account(make_tenant(last_name="MARTIN", first_name="Sophie"), email="sophie.lemoine@exemple.com")


def _forgot(client, email):
    reply = client.post("/v1/auth/password/forgot", {"email": email})
    assert reply.status == 202, reply.text
    return reply


def _links(messages, path="/links/reset-password"):
    found = []
    for message in messages:
        found += [unquote(t) for t in re.findall(re.escape(path) + r"\?token=([A-Za-z0-9_\-%]+)", message["text"])]
    return found


def _reset(client, token, password=NEW, confirmation=None):
    return client.post(
        "/v1/auth/password/reset",
        {
            "token": token,
            "password": password,
            "password_confirmation": password if confirmation is None else confirmation,
        },
    )


def _login(client, email, password):
    return client.post("/v1/auth/login", {"email": email, "password": password})


def test_forgot_sends_a_french_reset_link_valid_one_hour(client, account, outbox):
    reply = _forgot(client, account.email)
    [message] = outbox()
    assert set(message["to"]) == {account.email}
    assert message["subject"] == "Réinitialisation de votre mot de passe"
    assert "1 heure" in message["text"] and "1 heure" in message["html"]
    assert message["text"].count("https://app.test/links/reset-password?token=") == 1
    assert len(_links([message])) == 1
    # the account is not changed until the link is used
    assert _login(client, account.email, PASSWORD).status == 200
    assert reply.json() == {"status": "accepted"}


def test_forgot_answers_the_same_for_unknown_addresses(client, account, outbox):
    known = _forgot(client, account.email)
    unknown = _forgot(client, "personne@exemple.com")
    assert known.body == unknown.body
    assert set(known.headers) == set(unknown.headers)
    assert [set(m["to"]) for m in outbox()] == [{account.email}]


def test_forgot_takes_the_same_minimum_time(client, runtime, monkeypatch):
    import time

    monkeypatch.setattr(no_enumeration, "MIN_SECONDS", 0.3)
    started = time.monotonic()
    _forgot(client, "personne@exemple.com")
    assert time.monotonic() - started >= 0.3  # a floor, not a timing benchmark


def test_resend_takes_the_same_minimum_time_for_pending_and_unknown_addresses(client, runtime, monkeypatch):
    # Security revision 4: resend was slower for an address with a pending registration.
    import time

    monkeypatch.setattr(no_enumeration, "MIN_SECONDS", 0.3)
    for address in ("personne@exemple.com", "x" * 300):
        started = time.monotonic()
        reply = client.post("/v1/registrations/resend", {"email": address})
        assert reply.status in (202, 422)
        if reply.status == 202:
            assert time.monotonic() - started >= 0.3  # a floor, not a timing benchmark


def test_newest_link_only_and_five_per_hour(client, account, outbox, clock_offset):
    for _ in range(7):
        _forgot(client, account.email)
    links = _links(outbox())
    assert len(links) == 5  # at most 5 per hour per address
    assert _reset(client, links[0]).json()["code"] == "token_invalid"  # superseded
    clock_offset(3601)
    _forgot(client, account.email)
    newest = _links(outbox())[-1]
    assert newest not in links
    assert _reset(client, newest).status == 204


def test_reset_changes_the_password_revokes_sessions_and_tells_the_holder(client, account, outbox):
    session = log_in(account)
    pair = _login(client, account.email, PASSWORD).json()
    _forgot(client, account.email)
    [token] = _links(outbox())
    reply = _reset(client, token)
    assert reply.status == 204 and reply.body == b""
    for access in (session.access_token, pair["access_token"]):
        assert client.get("/v1/account", token=access).json()["code"] == "unauthorized"
    assert client.post("/v1/auth/refresh", {"refresh_token": pair["refresh_token"]}).status == 401
    assert _login(client, account.email, PASSWORD).status == 401
    assert _login(client, account.email, NEW).status == 200
    changed = outbox()[-1]
    assert set(changed["to"]) == {account.email}
    assert changed["subject"] == "Votre mot de passe a été modifié"
    assert "modifié" in changed["text"] and NEW not in changed["text"]
    # single use
    assert _reset(client, token, "Autre-Mdp-2025!").json()["code"] == "token_invalid"


def test_reset_also_lifts_the_login_lock(client, account, outbox):
    for _ in range(6):
        _login(client, account.email, "Mauvais-Mot-2-Passe")
    assert _login(client, account.email, PASSWORD).status == 429
    _forgot(client, account.email)
    assert _reset(client, _links(outbox())[0]).status == 204
    assert _login(client, account.email, NEW).status == 200


@pytest.mark.parametrize(
    ("password", "confirmation", "expected"),
    [
        ("court1!", None, [("password", "password_policy")]),
        ("Martin-Sophie-2024!", None, [("password", "password_policy")]),  # last name inside
        ("Sophie.Lemoine-99", None, [("password", "password_policy")]),  # e-mail local part inside
        ("Azerty123!", None, [("password", "password_policy")]),  # common password
        ("x" * 1000, None, [("password", "password_policy")]),  # 1,000 characters: a clear 422
        (NEW, NEW + "x", [("password_confirmation", "mismatch")]),
        ("court", "autre", [("password", "password_policy"), ("password_confirmation", "mismatch")]),
    ],
)
def test_reset_422_lists_every_field_and_keeps_the_token(client, account, outbox, password, confirmation, expected):
    _forgot(client, account.email)
    [token] = _links(outbox())
    reply = _reset(client, token, password, confirmation)
    assert reply.status == 422, reply.text
    body = reply.json()
    assert body["code"] == "validation_error"
    assert body["title"] == "Certains champs sont invalides."
    assert [(e["field"], e["code"]) for e in body["errors"]] == expected
    assert all(e["message"] for e in body["errors"])
    assert _reset(client, token).status == 204  # the 422 did not consume it


def test_long_multibyte_new_password_works(client, account, outbox):
    password = "Mot-De-Passe-Très-Long-Été-" + "é" * 60  # over 72 bytes, under 128 characters
    _forgot(client, account.email)
    assert _reset(client, _links(outbox())[0], password).status == 204
    assert _login(client, account.email, password).status == 200
    assert _login(client, account.email, password[:-1]).status == 401


def test_reset_token_errors(client, account, outbox, clock_offset):
    assert _reset(client, "inconnu").json()["code"] == "token_invalid"
    assert _reset(client, "").json()["code"] == "token_invalid"
    _forgot(client, account.email)
    [token] = _links(outbox())
    clock_offset(3601)
    reply = _reset(client, token)
    assert reply.status == 400
    assert reply.json() == {
        "type": "about:blank",
        "status": 400,
        "code": "token_expired",
        "title": "Ce lien a expiré.",
        "request_id": reply.header("X-Request-Id"),
    }


def test_validation_comes_before_token_errors(client, runtime):
    reply = _reset(client, "inconnu", "court")
    assert reply.status == 422


def test_reset_validation_of_the_body(client, runtime):
    reply = client.post("/v1/auth/password/reset", {"token": "t", "password": NEW})
    assert reply.status == 422
    assert {"field": "password_confirmation", "code": "required"} in [
        {k: e[k] for k in ("field", "code")} for e in reply.json()["errors"]
    ]


def test_pending_account_gets_a_fresh_verification_link_counted_with_resends(client, account, outbox):
    from oph.accounts.registration import RESENDS
    from oph.platform.rate_limit_store import RateLimiter, hashed

    aws.dynamodb().update_item(
        TableName=get_settings().tenants_table,
        Key=account_key(account.account_id),
        UpdateExpression="SET #s = :p, pending_expires_at = :e",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": accounts.PENDING}, ":e": {"N": str(int(clock.now_ts()) + 86400)}},
    )
    _forgot(client, account.email)
    [message] = outbox()
    assert _links([message]) == []
    assert len(_links([message], "/links/verify-email")) == 1
    assert "24 heures" in message["text"] and "spam" in message["text"]
    assert RateLimiter().current(RESENDS, hashed(account.email))[0] == 1  # registration's resend budget
    for _ in range(6):
        _forgot(client, account.email)
    assert len(outbox()) == 5


# -- the page


def test_page_get_shows_the_form_and_never_consumes(client, account, outbox):
    _forgot(client, account.email)
    [token] = _links(outbox())
    for _ in range(3):  # mail scanners open links before people do
        page = client.get("/links/reset-password", query=urlencode({"token": token}))
        assert page.status == 200
        assert page.header("Content-Type") == "text/html; charset=utf-8"
        assert '<html lang="fr">' in page.text
        assert 'name="password"' in page.text and 'name="password_confirmation"' in page.text
        assert "entre 8 et 128 caractères" in page.text
        assert "majuscules, minuscules, chiffres" in page.text
        assert "numéro d'intitulé" in unescape(page.text)
        assert "<script" not in page.text
        assert page.header("Referrer-Policy") == "no-referrer"
        assert "frame-ancestors 'none'" in page.header("Content-Security-Policy")
    assert _reset(client, token).status == 204


@pytest.mark.parametrize("query", ["", "token=inconnu", "token=" + "a" * 600])
def test_page_with_a_bad_link_is_a_french_error_page(client, runtime, query):
    page = client.get("/links/reset-password", query=query)
    assert page.status == 400
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert "Ce lien n'est pas valide ou a déjà été utilisé." in unescape(page.text)


def test_page_post_resets_and_shows_the_result(client, account, outbox):
    _forgot(client, account.email)
    [token] = _links(outbox())
    bad = client.request(
        "POST",
        "/links/reset-password",
        body=urlencode({"token": token, "password": "court", "password_confirmation": "autre"}),
        headers=FORM,
    )
    assert bad.status == 422
    assert "La confirmation ne correspond pas." in bad.text
    assert 'name="password"' in bad.text  # the form again, same link
    good = client.request(
        "POST",
        "/links/reset-password",
        body=urlencode({"token": token, "password": NEW, "password_confirmation": NEW}),
        headers=FORM,
    )
    assert good.status == 200
    assert "Votre mot de passe a bien été modifié." in good.text
    assert _login(client, account.email, NEW).status == 200
    again = client.request(
        "POST",
        "/links/reset-password",
        body=urlencode({"token": token, "password": NEW, "password_confirmation": NEW}),
        headers=FORM,
    )
    assert again.status == 400 and "Ce lien n'est pas valide ou a déjà été utilisé." in unescape(again.text)


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"token=&password=&password_confirmation=", b"a" * 70000])
def test_page_post_never_500(client, runtime, body):
    reply = client.request("POST", "/links/reset-password", body=body, headers=FORM)
    assert reply.status in (400, 413, 422)
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
