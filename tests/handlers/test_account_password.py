"""PUT /v1/account/password: policy, fresh token pair, revocation of every earlier token."""

from __future__ import annotations

import pytest

from oph.accounts.account_store import account_store
from tests.factories import PASSWORD, make_account, make_tenant

NEW = "Velo-Rouge-Tulipe-93"


def _problem(reply, status, code):
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    assert body["request_id"] == reply.header("X-Request-Id")
    return body


def _login(client, email, password=PASSWORD):
    return client.post("/v1/auth/login", {"email": email, "password": password})


def _change(client, token, current=PASSWORD, new=NEW, confirmation=None):
    return client.put(
        "/v1/account/password",
        {
            "current_password": current,
            "new_password": new,
            "new_password_confirmation": new if confirmation is None else confirmation,
        },
        token=token,
    )


@pytest.fixture
def account(runtime):
    return make_account(make_tenant(last_name="DE LA FONTAINE", first_name="Jean-Baptiste"), "jb.fontaine@exemple.com")


@pytest.fixture
def session(client, account):
    reply = _login(client, account.email)
    assert reply.status == 200, reply.text
    return reply.json()


def test_change_returns_a_fresh_token_pair(client, account, session, outbox):
    reply = _change(client, session["access_token"])
    assert reply.status == 200, reply.text
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert (body["token_type"], body["expires_in"], body["refresh_expires_in"]) == ("Bearer", 900, 2592000)
    assert body["access_token"] != session["access_token"]
    assert client.get("/v1/account", token=body["access_token"]).status == 200
    assert client.post("/v1/auth/refresh", {"refresh_token": body["refresh_token"]}).status == 200


def test_every_earlier_token_is_revoked_the_callers_own_included(client, account, session, outbox):
    other_device = _login(client, account.email).json()
    reply = _change(client, session["access_token"])
    assert reply.status == 200

    for earlier in (session, other_device):
        _problem(client.get("/v1/account", token=earlier["access_token"]), 401, "unauthorized")
        _problem(client.post("/v1/auth/refresh", {"refresh_token": earlier["refresh_token"]}), 401, "unauthorized")
    assert client.get("/v1/account", token=reply.json()["access_token"]).status == 200


def test_new_password_is_the_one_that_logs_in(client, account, session, outbox):
    _change(client, session["access_token"])
    assert _login(client, account.email, PASSWORD).status == 401
    assert _login(client, account.email, NEW).status == 200


def test_password_changed_email_goes_to_the_account_address(client, account, session, outbox):
    _change(client, session["access_token"])
    [mail] = [m for m in outbox() if account.email in m["to"]]
    assert mail["subject"] == "Votre mot de passe a été modifié"
    assert mail["html"] and "Mot de passe oublié" in mail["text"]
    assert NEW not in mail["text"] and NEW not in mail["html"]


@pytest.mark.parametrize(
    "weak",
    [
        "cO1!",  # too short
        "azerty",
        "Azerty123!",
        "motdepasse",
        "toutenminuscules",
        "Fontaine-2024!",  # last name (part of a compound name)
        "Baptiste#2024x",  # first name part
        "Jb.fontaine#2024",  # the e-mail's local part
        "x" * 129,
    ],
)
def test_policy_is_the_registration_policy(client, account, session, outbox, weak):
    body = _problem(_change(client, session["access_token"], new=weak), 422, "validation_error")
    errors = [(e["field"], e["code"]) for e in body["errors"]]
    assert errors == [("new_password", "password_policy")]
    assert body["errors"][0]["message"]
    assert client.get("/v1/account", token=session["access_token"]).status == 200  # nothing revoked
    assert outbox() == []


def test_tenant_number_is_a_personal_word(client, account, session, outbox):
    weak = f"Loyer-{account.tenant_number}-Ok"
    body = _problem(_change(client, session["access_token"], new=weak), 422, "validation_error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("new_password", "password_policy")]


def test_confirmation_mismatch(client, account, session):
    body = _problem(_change(client, session["access_token"], confirmation=NEW + "x"), 422, "validation_error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("new_password_confirmation", "mismatch")]
    assert body["errors"][0]["message"] == "La confirmation ne correspond pas."


def test_every_failing_field_is_listed(client, account, session):
    body = _problem(
        _change(client, session["access_token"], new="azerty", confirmation="autre"), 422, "validation_error"
    )
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("new_password", "password_policy"),
        ("new_password_confirmation", "mismatch"),
    }


def test_validation_comes_before_the_current_password(client, account, session):
    _problem(_change(client, session["access_token"], current="Mauvais-2-Passe", new="azerty"), 422, "validation_error")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"new_password": NEW, "new_password_confirmation": NEW}, "current_password", "required"),
        ({"current_password": PASSWORD, "new_password_confirmation": NEW}, "new_password", "required"),
        ({"current_password": PASSWORD, "new_password": NEW}, "new_password_confirmation", "required"),
        (
            {"current_password": 1, "new_password": NEW, "new_password_confirmation": NEW},
            "current_password",
            "invalid_format",
        ),
        (
            {"current_password": PASSWORD, "new_password": NEW, "new_password_confirmation": NEW, "password": "x"},
            "password",
            "unknown_field",
        ),
    ],
)
def test_body_validation(client, account, session, body, field, code):
    reply = client.put("/v1/account/password", body, token=session["access_token"])
    problem = _problem(reply, 422, "validation_error")
    assert (field, code) in [(e["field"], e["code"]) for e in problem["errors"]]


def test_wrong_current_password_is_403_counted_and_changes_nothing(client, account, session, outbox):
    for _ in range(5):
        body = _problem(
            _change(client, session["access_token"], current="Mauvais-2-Passe"), 403, "current_password_invalid"
        )
        assert body["title"] == "Le mot de passe actuel est incorrect."
    assert client.get("/v1/account", token=session["access_token"]).status == 200
    assert account_store().get(account.account_id).password_hash == account.password_hash
    _problem(_login(client, account.email), 429, "too_many_requests")
    assert outbox() == []


@pytest.mark.parametrize("new", ["É" * 64 + "a1!", "Mot-De-Passe-Tres-Long-" + "ü" * 100 + "9"])
def test_multibyte_passwords_never_500(client, account, session, new):
    reply = _change(client, session["access_token"], new=new)
    assert reply.status in (200, 422), reply.text
    if reply.status == 200:
        assert _login(client, account.email, new).status == 200


def test_the_new_password_must_differ_from_the_current_one(client, account, session, outbox):
    reply = _change(client, session["access_token"], current=PASSWORD, new=PASSWORD)
    body = _problem(reply, 422, "validation_error")
    assert {"field": "new_password", "code": "password_policy"} in [
        {k: e[k] for k in ("field", "code")} for e in body["errors"]
    ]
    assert "différent" in body["errors"][0]["message"]
    assert _login(client, account.email).status == 200  # nothing changed, no session revoked
