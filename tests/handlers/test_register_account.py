"""Step 2: POST /v1/registrations — validation, the pending account, uniqueness, e-mails."""

from __future__ import annotations

import json

import pytest

from oph.accounts import model as accounts
from oph.accounts import registration
from oph.accounts.account_store import account_store
from oph.accounts.passwords import verify_password
from oph.platform import clock
from oph.platform.errors import ServiceUnavailable
from oph.platform.mail import set_mailer
from tests.factories import make_account, make_tenant
from tests.handlers.test_register_support import (
    PASSWORD,
    all_accounts,
    email_owner,
    field_codes,
    holder_owner,
    links_to,
    messages_to,
    new_email,
    problem,
    register,
    start,
    step2_body,
    verify,
)

PATH = "/v1/registrations"


def test_step_2_creates_a_pending_account_and_sends_the_link(client, demo_tenant, outbox):
    token = start(client, demo_tenant)
    reply = client.post(
        PATH,
        json=step2_body(token, "  Jean.Dupond@Exemple.COM ", email_confirmation="jean.dupond@exemple.com"),
    )
    assert reply.status == 201, reply.text
    assert reply.json() == {"status": "pending_verification", "email": "jean.dupond@exemple.com"}

    account = account_store().get_by_email("jean.dupond@exemple.com")
    assert account is not None
    assert account.status == accounts.PENDING
    assert account.email == "jean.dupond@exemple.com"
    assert (account.tenant_number, account.first_name, account.last_name) == ("123456", "Jean", "DUPOND")
    assert account.terms_version == registration.TERMS_VERSION
    assert account.terms_accepted_at == account.created_at
    assert abs(account.pending_expires_at - (clock.now_ts() + 7 * 24 * 3600)) < 60
    assert verify_password(PASSWORD, account.password_hash)
    assert PASSWORD not in json.dumps(account.__dict__)

    [message] = messages_to(outbox, "jean.dupond@exemple.com")
    assert message["subject"] == "Confirmez votre adresse e-mail — Mon espace locataire"
    for part in (message["text"], message["html"]):
        assert "https://app.test/links/verify-email?token=" in part
        assert "24 heures" in part
        assert "courrier indésirable" in part and "spam" in part
        assert "Confirmer mon adresse" in part
    assert message["html"].startswith("<!DOCTYPE html>")
    assert len(links_to(outbox, "jean.dupond@exemple.com")) == 1


def test_every_failing_field_is_listed_with_its_contract_code(client, runtime):
    tenant = make_tenant()
    token = start(client, tenant)
    reply = client.post(
        PATH,
        json=step2_body(
            token,
            "a@exemple.com",
            password="azerty",
            email_confirmation="b@exemple.com",
            password_confirmation="other",
            accept_terms=False,
        ),
    )
    body = problem(reply, 422, "validation_error")
    assert body["title"] == "Certains champs sont invalides."
    assert field_codes(body) == {
        "email_confirmation": "mismatch",
        "password": "password_policy",
        "password_confirmation": "mismatch",
        "accept_terms": "terms_not_accepted",
    }
    assert all(e["message"] for e in body["errors"])
    assert "azerty" not in reply.text and "other" not in reply.text  # no password in an error body


def test_a_422_leaves_the_registration_token_usable(client, runtime, outbox):
    tenant = make_tenant()
    token = start(client, tenant)
    email = new_email()
    assert client.post(PATH, json=step2_body(token, email, accept_terms=False)).status == 422
    assert client.post(PATH, json=step2_body(token, email, password="Azerty123!")).status == 422
    assert client.post(PATH, json=step2_body(token, email)).status == 201
    problem(client.post(PATH, json=step2_body(token, new_email())), 400, "token_invalid")


@pytest.mark.parametrize(
    "password",
    [
        "Azerty123!",
        "azerty123!",
        "!!Azerty2024",
        "Soleil-2024",
        "MotDePasse1!",
        "Marseille13!",
        "Jetaime2024!",
        "Court1!",
        "x" * 129 + "A1!",
        "sansmajuscule",
        "ALLCAPS123456",
    ],
)
def test_password_policy_is_enforced(client, runtime, password):
    token = start(client, make_tenant())
    body = problem(client.post(PATH, json=step2_body(token, new_email(), password)), 422, "validation_error")
    assert field_codes(body) == {"password": "password_policy"}


@pytest.mark.parametrize(
    "password",
    ["Sophie#Zq9w", "Zq9w!martin-x", "Zq9w!MARTIN-DIALLO", "Zq9w!diallo", "Xq9!{number}", "Xq9!{local}"],
)
def test_personal_words_are_refused(client, runtime, password):
    tenant = make_tenant(last_name="MARTIN-DIALLO", first_name="Sophie")
    email = "kestrel.vautour@exemple.com"
    password = password.format(number=tenant.holder.tenant_number, local="Kestrel.Vautour")
    token = start(client, tenant)
    body = problem(client.post(PATH, json=step2_body(token, email, password)), 422, "validation_error")
    assert field_codes(body) == {"password": "password_policy"}
    assert "nom" in body["errors"][0]["message"]


def test_long_and_multibyte_passwords_never_cause_a_500(client, runtime, outbox):
    tenant = make_tenant()
    for password in ("A1!" + "é" * 997, "Ünïcødé-🔑" * 100, "x" * 5000 + "A1!"):
        token = start(client, tenant)
        body = problem(client.post(PATH, json=step2_body(token, new_email(), password)), 422, "validation_error")
        assert field_codes(body) == {"password": "password_policy"}
    password = "Clé-de-Voûte-€-🔑-" + "ü" * 100  # 118 characters, about 250 bytes of UTF-8
    token = start(client, tenant)
    email = new_email()
    assert client.post(PATH, json=step2_body(token, email, password)).status == 201
    account = account_store().get_by_email(email)
    assert verify_password(password, account.password_hash)
    assert not verify_password(password[:72], account.password_hash)  # every character counts


@pytest.mark.parametrize("email", ["pas-une-adresse", "a@b", "jean dupond@exemple.com", "a@@exemple.com", "é@x"])
def test_malformed_email_is_422(client, runtime, email):
    token = start(client, make_tenant())
    body = problem(client.post(PATH, json=step2_body(token, email)), 422, "validation_error")
    assert field_codes(body)["email"] == "invalid_format"


def test_missing_and_unknown_fields(client, runtime):
    body = problem(client.post(PATH, json={"email": "a@exemple.com", "surprise": 1}), 422, "validation_error")
    codes = field_codes(body)
    assert codes["surprise"] == "unknown_field"
    assert codes["registration_token"] == "required"
    assert codes["accept_terms"] == "required"


def test_unknown_used_and_expired_registration_tokens(client, runtime, clock_offset, outbox):
    problem(client.post(PATH, json=step2_body("inconnu", new_email())), 400, "token_invalid")
    problem(client.post(PATH, json=step2_body("", new_email())), 400, "token_invalid")
    tenant = make_tenant()
    token = start(client, tenant)
    assert client.post(PATH, json=step2_body(token, new_email())).status == 201
    problem(client.post(PATH, json=step2_body(token, new_email())), 400, "token_invalid")
    token = start(client, tenant)
    clock_offset(1801)
    body = problem(client.post(PATH, json=step2_body(token, new_email())), 400, "token_expired")
    assert body["title"] == "Ce lien a expiré."


def test_validation_comes_before_the_token(client, runtime):
    body = problem(
        client.post(PATH, json=step2_body("inconnu", new_email(), accept_terms=False)), 422, "validation_error"
    )
    assert field_codes(body) == {"accept_terms": "terms_not_accepted"}


def test_tokens_are_single_purpose(client, runtime, outbox):
    tenant = make_tenant()
    registration_token = start(client, tenant)
    problem(verify(client, registration_token), 400, "token_invalid")
    email = new_email()
    assert client.post(PATH, json=step2_body(registration_token, email)).status == 201
    problem(client.post(PATH, json=step2_body(links_to(outbox, email)[0], new_email())), 400, "token_invalid")


def test_a_newer_step_1_supersedes_the_earlier_token(client, runtime):
    tenant = make_tenant()
    first = start(client, tenant)
    second = start(client, tenant)
    problem(client.post(PATH, json=step2_body(first, new_email())), 400, "token_invalid")
    assert client.post(PATH, json=step2_body(second, new_email())).status == 201


def test_email_of_another_account_gets_the_same_201_and_a_notice(client, runtime, outbox):
    owner_tenant = make_tenant()
    taken = new_email()
    owner = make_account(owner_tenant, taken)
    fresh = new_email()

    tenant = make_tenant()
    reply_taken = client.post(PATH, json=step2_body(start(client, tenant), taken.upper()))
    reply_fresh = client.post(PATH, json=step2_body(start(client, make_tenant()), fresh))
    assert reply_taken.status == reply_fresh.status == 201
    assert reply_taken.json() == {"status": "pending_verification", "email": taken}
    assert reply_taken.body.replace(taken.encode(), b"") == reply_fresh.body.replace(fresh.encode(), b"")

    [notice] = messages_to(outbox, taken)
    assert notice["subject"] == "Tentative de création de compte avec votre adresse e-mail"
    assert "Mot de passe oublié" in notice["text"] and "connectez-vous" in notice["text"]
    assert "verify-email" not in notice["text"]
    assert email_owner(taken) == owner.account_id  # untouched
    assert holder_owner(tenant.holder.holder_id) is None  # no account for the intruder
    assert account_store().get(owner.account_id).status == accounts.ACTIVE


def test_email_of_a_pending_account_of_another_holder_is_not_taken(client, runtime, outbox):
    email = new_email()
    first, second = make_tenant(), make_tenant()
    register(client, first, email)
    register(client, second, email)
    assert [m["subject"] for m in messages_to(outbox, email)] == [
        "Confirmez votre adresse e-mail — Mon espace locataire",
        "Tentative de création de compte avec votre adresse e-mail",
    ]
    assert holder_owner(second.holder.holder_id) is None
    assert verify(client, links_to(outbox, email)[0]).status == 200


def test_pending_account_expires_after_7_days_and_releases_its_email(client, runtime, outbox, clock_offset):
    email = new_email()
    first, second = make_tenant(), make_tenant()
    register(client, first, email)
    old_link = links_to(outbox, email)[0]
    clock_offset(7 * 24 * 3600 + 1)
    register(client, second, email)
    links = links_to(outbox, email)
    assert len(links) == 2  # a verification link, not a notice
    problem(verify(client, old_link), 400, "token_invalid")
    assert verify(client, links[1]).status == 200
    account = account_store().get_by_email(email)
    assert account.holder_id == second.holder.holder_id and account.status == accounts.ACTIVE
    assert holder_owner(first.holder.holder_id) is None  # the expired account is gone whole
    assert len([a for a in all_accounts() if a.email == email]) == 1


def test_redoing_steps_1_and_2_replaces_the_pending_account(client, runtime, outbox):
    tenant = make_tenant()
    mistyped, right = new_email(), new_email()
    register(client, tenant, mistyped)
    register(client, tenant, right)
    problem(verify(client, links_to(outbox, mistyped)[0]), 400, "token_invalid")
    assert email_owner(mistyped) is None  # released for anyone
    assert verify(client, links_to(outbox, right)[0]).status == 200
    mine = [a for a in all_accounts() if a.holder_id == tenant.holder.holder_id]
    assert len(mine) == 1 and mine[0].email == right
    # The released address can be used by another holder (a real link, not a notice).
    register(client, make_tenant(), mistyped)
    assert len(links_to(outbox, mistyped)) == 2


def test_replacing_with_the_same_email_voids_the_earlier_link(client, runtime, outbox):
    tenant = make_tenant()
    email = new_email()
    register(client, tenant, email)
    register(client, tenant, email)
    first, second = links_to(outbox, email)
    problem(verify(client, first), 400, "token_invalid")
    assert verify(client, second).status == 200
    assert len([a for a in all_accounts() if a.holder_id == tenant.holder.holder_id]) == 1


def test_step_2_for_a_holder_activated_meanwhile_is_409(client, runtime):
    tenant = make_tenant()
    token = start(client, tenant)
    make_account(tenant)
    problem(client.post(PATH, json=step2_body(token, new_email())), 409, "account_exists")


class _DownMailer:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def send(self, email):
        raise self.error


@pytest.mark.parametrize("error", [ServiceUnavailable(retry_after=30), RuntimeError("SES said no")])
def test_ses_failure_is_a_clear_503_and_resend_works_afterwards(client, runtime, outbox, error):
    tenant = make_tenant()
    email = new_email()
    token = start(client, tenant)
    set_mailer(_DownMailer(error))
    try:
        reply = client.post(PATH, json=step2_body(token, email))
    finally:
        set_mailer(None)
    body = problem(reply, 503, "service_unavailable")
    assert int(reply.header("Retry-After")) >= 1
    assert "SES" not in reply.text and "Traceback" not in reply.text
    # The account was written whole before the send: pending, with both uniqueness items.
    account = account_store().get_by_email(email)
    assert account is not None and account.status == accounts.PENDING
    assert holder_owner(tenant.holder.holder_id) == account.account_id
    assert body["title"].startswith("Le service est momentanément indisponible")
    assert client.post("/v1/registrations/resend", json={"email": email}).status == 202
    [link] = links_to(outbox, email)
    assert verify(client, link).status == 200


def test_concurrent_races_resolved_by_the_transaction(client, runtime, outbox, monkeypatch):
    """A lost race (a condition failing) is retried on fresh reads: the answer stays a 201."""
    tenant = make_tenant()
    email = new_email()
    token = start(client, tenant)
    calls = {"n": 0}

    class FirstAttemptLoses(registration.Transaction):
        def commit(self):
            calls["n"] += 1
            if calls["n"] == 1:
                # Someone else (another holder) takes the address between our reads and our write.
                make_account(make_tenant(), email)
            super().commit()

    monkeypatch.setattr(registration, "Transaction", FirstAttemptLoses)
    reply = client.post(PATH, json=step2_body(token, email))
    assert reply.status == 201
    assert calls["n"] == 2
    assert [m["subject"] for m in messages_to(outbox, email)] == [
        "Tentative de création de compte avec votre adresse e-mail"
    ]
    assert holder_owner(tenant.holder.holder_id) is None
