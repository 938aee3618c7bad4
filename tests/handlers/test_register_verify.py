"""Step 3 and resend: POST /v1/registrations/verify, /resend and the /links/verify-email page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from oph.accounts import model as accounts
from oph.accounts.account_store import account_store
from tests.factories import make_account, make_tenant
from tests.handlers.test_register_support import (
    email_owner,
    links_to,
    messages_to,
    new_email,
    problem,
    register,
    verify,
)

PAGE = "/links/verify-email"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def pending(client, runtime, outbox):
    """(email, newest verification token) of a fresh pending account."""
    email = new_email()
    register(client, make_tenant(), email)
    return email, links_to(outbox, email)[-1]


def _post_page(client, **fields):
    return client.request("POST", PAGE, body=urlencode(fields), headers=FORM)


# ---------------------------------------------------------------- API
def test_verify_activates_once(client, pending):
    email, token = pending
    reply = verify(client, token)
    assert reply.status == 200
    assert reply.json() == {"status": "active"}
    account = account_store().get_by_email(email)
    assert account.status == accounts.ACTIVE and account.verified_at
    assert account.pending_expires_at is None  # an active account never expires
    problem(verify(client, token), 400, "token_invalid")


def test_unknown_and_empty_tokens_are_invalid(client, runtime):
    for token in ("inconnu", "", "x" * 600, "é\u0000"):
        body = problem(verify(client, token), 400, "token_invalid")
        assert body["title"] == "Ce lien n'est pas valide ou a déjà été utilisé."


def test_link_is_valid_24_hours(client, pending, clock_offset):
    _, token = pending
    clock_offset(24 * 3600 + 1)
    problem(verify(client, token), 400, "token_expired")
    clock_offset(24 * 3600 - 60)
    assert verify(client, token).status == 200


def test_resend_supersedes_the_earlier_link(client, pending, outbox):
    email, first = pending
    reply = client.post("/v1/registrations/resend", json={"email": email.upper()})
    assert reply.status == 202
    second = links_to(outbox, email)[-1]
    assert second != first
    problem(verify(client, first), 400, "token_invalid")
    assert verify(client, second).status == 200


def test_resend_answers_202_whatever_the_address(client, pending, outbox):
    active = new_email()
    make_account(make_tenant(), active)
    replies = [
        client.post("/v1/registrations/resend", json={"email": email})
        for email in (pending[0], "personne@exemple.com", active, "pas une adresse")
    ]
    assert {r.status for r in replies} == {202}
    assert len({r.body for r in replies}) == 1
    assert messages_to(outbox, "personne@exemple.com") == []
    assert messages_to(outbox, active) == []


def test_resend_is_limited_to_5_an_hour_per_address(client, pending, outbox, clock_offset):
    email, _ = pending
    for _ in range(8):
        assert client.post("/v1/registrations/resend", json={"email": email}).status == 202
    assert len(links_to(outbox, email)) == 1 + 5  # the original e-mail is not counted
    clock_offset(3601)
    assert client.post("/v1/registrations/resend", json={"email": email}).status == 202
    links = links_to(outbox, email)
    assert len(links) == 7
    assert verify(client, links[-1]).status == 200


def test_resend_after_the_pending_account_expired_sends_nothing(client, pending, outbox, clock_offset):
    email, _ = pending
    clock_offset(7 * 24 * 3600 + 1)
    assert client.post("/v1/registrations/resend", json={"email": email}).status == 202
    assert len(links_to(outbox, email)) == 1


def test_resend_during_a_mail_outage_still_answers_202(client, pending, outbox):
    from oph.platform.errors import ServiceUnavailable
    from oph.platform.mail import set_mailer

    class Down:
        def send(self, email):
            raise ServiceUnavailable(retry_after=30)

    set_mailer(Down())
    try:
        reply = client.post("/v1/registrations/resend", json={"email": pending[0]})
    finally:
        set_mailer(None)
    assert reply.status == 202
    assert reply.json() == {"status": "accepted"}


def test_resend_needs_an_email_field(client, runtime):
    body = problem(client.post("/v1/registrations/resend", json={}), 422, "validation_error")
    assert body["errors"][0] == {"field": "email", "code": "required", "message": "Ce champ est obligatoire."}


# ---------------------------------------------------------------- the page
def test_get_shows_a_button_and_never_consumes_the_token(client, pending):
    _, token = pending
    for _ in range(3):  # mail scanners open links before people do
        reply = client.get(PAGE, query=urlencode({"token": token}))
        assert reply.status == 200
        assert reply.header("Content-Type").startswith("text/html")
        assert '<html lang="fr">' in reply.text
        assert "Confirmer mon adresse</button>" in reply.text
        assert '<form method="post"' in reply.text
        assert "<script" not in reply.text
        assert reply.header("Referrer-Policy") == "no-referrer"
        assert "default-src 'none'" in reply.header("Content-Security-Policy")
        assert reply.header("X-Request-Id")
    assert verify(client, token).status == 200


def test_form_post_consumes_and_shows_success(client, pending):
    email, token = pending
    reply = _post_page(client, token=token)
    assert reply.status == 200
    assert "Adresse e-mail confirmée" in reply.text
    assert account_store().get_by_email(email).status == accounts.ACTIVE
    again = _post_page(client, token=token)
    assert again.status == 400
    assert "Lien invalide" in again.text and "déjà été utilisé" in again.text


def test_expired_link_page_offers_a_new_link(client, pending, outbox, clock_offset):
    email, token = pending
    clock_offset(24 * 3600 + 1)
    for reply in (client.get(PAGE, query=urlencode({"token": token})), _post_page(client, token=token)):
        assert reply.status == 400
        assert "Lien expiré" in reply.text
        assert 'name="email"' in reply.text and "Recevoir un nouveau lien</button>" in reply.text
    reply = _post_page(client, action="resend", email=email)
    assert reply.status == 200
    assert "nouveau lien" in reply.text
    fresh = links_to(outbox, email)[-1]
    assert fresh != token
    assert _post_page(client, token=fresh).status == 200


@pytest.mark.parametrize("query", ["", "token=", "token=inconnu", "token=%FF%FE", "token=a&token=b"])
def test_invalid_links_show_the_invalid_page(client, runtime, query):
    reply = client.get(PAGE, query=query)
    assert reply.status == 400
    assert "Lien invalide" in reply.text
    assert "Traceback" not in reply.text


@pytest.mark.parametrize("body", [b"", b"token", b"\xff\xfe", b"token=%ZZ", b"a=1&token=inconnu"])
def test_odd_form_bodies_never_cause_a_500(client, runtime, body):
    reply = client.request("POST", PAGE, body=body, headers=FORM)
    assert reply.status == 400
    assert reply.header("Content-Type").startswith("text/html")


def test_superseded_link_page_is_invalid(client, pending, outbox):
    email, first = pending
    client.post("/v1/registrations/resend", json={"email": email})
    assert "Lien invalide" in client.get(PAGE, query=urlencode({"token": first})).text
    assert _post_page(client, token=first).status == 400
    assert email_owner(email)  # still pending, the newest link works
    assert _post_page(client, token=links_to(outbox, email)[-1]).status == 200
