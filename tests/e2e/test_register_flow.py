"""Registration over real HTTP against the local server: the whole flow, races, the link page.

Fresh tenants come through the admin import (``POST /_dev/imports/tenants``) so these tests
never depend on the demo tenant's state. Step-1 failures are kept few: every request here
comes from 127.0.0.1, and 50 failures an hour from one address block it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Cheval-Pile-42"
HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)


def fresh_tenant(api, *holders):
    """Import one tenancy with its holders ((last, first, birth), ...); returns step-1 bodies."""
    number = str(secrets.randbelow(10**8) + 10**8)
    holders = holders or (("MARTIN", "Sophie", "1980-02-29"),)
    rows = [
        f"{number};{last};{first};{birth};C{number};T{number};12 Rue du Moutier;93300;AUBERVILLIERS;0,00;23/05/2019"
        for last, first, birth in holders
    ]
    reply = api.request(
        "POST",
        "/_dev/imports/tenants",
        query=f"name=reg-{number}.csv",
        body="\n".join([HEADER, *rows]) + "\n",
        headers={"Content-Type": "text/csv"},
    )
    assert reply.status == 200, reply.text
    assert reply.json()["rows_accepted"] == len(holders), reply.text
    return [
        {"tenant_number": number, "last_name": last, "first_name": first, "birth_date": birth}
        for last, first, birth in holders
    ]


def new_email():
    return f"e2e-{uuid.uuid4().hex[:12]}@exemple.com"


def step2(token, email, password=PASSWORD):
    return {
        "registration_token": token,
        "email": email,
        "email_confirmation": email,
        "password": password,
        "password_confirmation": password,
        "accept_terms": True,
    }


def links_to(api, email):
    """Verification links e-mailed to ``email``, oldest first (full URLs)."""
    found = []
    for message in api.outbox():
        if email in message["to"]:
            match = re.search(r"https?://\S+/links/verify-email\?token=[A-Za-z0-9_%-]+", message["text"])
            if match:
                found.append(match.group(0))
    return found


def token_of(link):
    return parse_qs(urlsplit(link).query)["token"][0]


def start(api, identity):
    reply = api.post("/v1/registrations/identity", identity)
    assert reply.status == 200, reply.text
    return reply.json()["registration_token"]


def test_whole_flow_identity_register_verify_login(api):
    [identity] = fresh_tenant(api, ("N'DIAYE", "Jean-Pierre", "1975-09-10"))
    typed = {
        **identity,
        "last_name": "ndiaye",
        "first_name": "JEAN PIERRE",
        "tenant_number": " 0" + identity["tenant_number"],
    }
    reply = api.post("/v1/registrations/identity", typed)
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["expires_in"] == 1800
    assert (body["first_name"], body["last_name"]) == ("Jean-Pierre", "N'DIAYE")
    assert reply.header("X-Request-Id")

    email = new_email()
    reply = api.post("/v1/registrations", step2(body["registration_token"], email.upper()))
    assert reply.status == 201, reply.text
    assert reply.json() == {"status": "pending_verification", "email": email}
    [link] = links_to(api, email)
    assert link.startswith(api.base + "/links/verify-email?token=")  # PUBLIC_BASE_URL locally: the API itself

    login = {"email": email, "password": PASSWORD}
    reply = api.post("/v1/auth/login", login)
    assert reply.status == 403 and reply.json()["code"] == "email_not_verified"
    reply = api.post("/v1/registrations/verify", {"token": token_of(link)})
    assert reply.status == 200 and reply.json() == {"status": "active"}
    assert api.post("/v1/auth/login", login).status == 200
    assert api.post("/v1/registrations/identity", typed).json()["code"] == "account_exists"


def test_mismatch_answer_is_byte_identical_over_http(api):
    [identity] = fresh_tenant(api)
    causes = [
        {**identity, "tenant_number": "1" + identity["tenant_number"]},
        {**identity, "last_name": "DURAND"},
        {**identity, "first_name": "Paul"},
        {**identity, "birth_date": "1980-03-01"},
    ]
    bodies = set()
    for body in causes:
        reply = api.post("/v1/registrations/identity", body)
        assert reply.status == 400
        rid = reply.json()["request_id"]
        assert rid == reply.header("X-Request-Id")
        bodies.add(reply.body.replace(rid.encode(), b""))
    assert len(bodies) == 1
    assert api.post("/v1/registrations/identity", identity).status == 200


def test_expired_reused_and_superseded_links(api):
    [identity] = fresh_tenant(api)
    email = new_email()
    assert api.post("/v1/registrations", step2(start(api, identity), email)).status == 201
    assert api.post("/v1/registrations/resend", {"email": email}).status == 202
    first, second = (token_of(link) for link in links_to(api, email))
    assert api.post("/v1/registrations/verify", {"token": first}).json()["code"] == "token_invalid"
    api.set_clock(24 * 3600 + 5)
    try:
        reply = api.post("/v1/registrations/verify", {"token": second})
        assert reply.status == 400 and reply.json()["code"] == "token_expired"
    finally:
        api.set_clock(0)
    assert api.post("/v1/registrations/verify", {"token": second}).status == 200
    assert api.post("/v1/registrations/verify", {"token": second}).json()["code"] == "token_invalid"


def test_twenty_concurrent_submissions_of_one_token(api):
    [identity] = fresh_tenant(api)
    token = start(api, identity)
    emails = [new_email() for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda e: api.post("/v1/registrations", step2(token, e)), emails))
    statuses = sorted(r.status for r in replies)
    assert statuses == [201] + [400] * 19, statuses
    assert {r.json()["code"] for r in replies if r.status == 400} == {"token_invalid"}


def test_twenty_concurrent_registrations_for_one_holder_never_give_two_accounts(api):
    [identity] = fresh_tenant(api)
    emails = [new_email() for _ in range(20)]

    def attempt(email):
        first = api.post("/v1/registrations/identity", identity)
        if first.status != 200:
            return first.status
        return api.post("/v1/registrations", step2(first.json()["registration_token"], email)).status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, emails))
    assert all(s < 500 for s in statuses), statuses
    assert 201 in statuses
    assert set(statuses) <= {200, 201, 400}, statuses  # 400: a step-1 token superseded by a newer one
    # Every link sent: only the newest pending account's link can activate anything.
    links = [link for email in emails for link in links_to(api, email)]
    results = [api.post("/v1/registrations/verify", {"token": token_of(link)}).status for link in links]
    assert results.count(200) == 1, results
    assert set(results) <= {200, 400}
    assert api.post("/v1/registrations/identity", identity).json()["code"] == "account_exists"


def test_twenty_concurrent_submissions_of_one_email_from_two_holders_give_one_account(api):
    sophie, paul = fresh_tenant(api, ("MARTIN", "Sophie", "1980-02-29"), ("MARTIN", "Paul", "1978-06-15"))
    email = new_email()

    def attempt(i):
        identity = (sophie, paul)[i % 2]
        first = api.post("/v1/registrations/identity", identity)
        if first.status != 200:
            return first.status
        return api.post("/v1/registrations", step2(first.json()["registration_token"], email)).status

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert all(s < 500 for s in statuses), statuses
    assert 201 in statuses
    links = links_to(api, email)
    results = [api.post("/v1/registrations/verify", {"token": token_of(link)}).status for link in links]
    assert results.count(200) == 1, results
    # Exactly one of the two holders now has the account; the other has none and may register.
    answers = sorted(api.post("/v1/registrations/identity", who).status for who in (sophie, paul))
    assert answers == [200, 409], answers
    assert api.post("/v1/auth/login", {"email": email, "password": PASSWORD}).status == 200


def test_co_holders_register_separately_over_http(api):
    sophie, paul = fresh_tenant(api, ("DIALLO", "Awa", "1980-02-29"), ("DIALLO", "Moussa", "1978-06-15"))
    for who in (sophie, paul):
        email = new_email()
        assert api.post("/v1/registrations", step2(start(api, who), email)).status == 201
        [link] = links_to(api, email)
        assert api.post("/v1/registrations/verify", {"token": token_of(link)}).status == 200
        assert api.post("/v1/registrations/identity", who).status == 409


@pytest.mark.browser
def test_link_page_in_chromium_get_does_not_consume_then_click_confirms(api, page):
    [identity] = fresh_tenant(api)
    email = new_email()
    assert api.post("/v1/registrations", step2(start(api, identity), email)).status == 201
    [link] = links_to(api, email)

    page.goto(link)  # a mail scanner's GET, then the person's
    page.goto(link)
    assert page.locator("h1").inner_text() == "Confirmer mon adresse e-mail"
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("button", name="Confirmer mon adresse").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Adresse e-mail confirmée"
    assert "votre compte est activé" in page.content()
    assert api.post("/v1/auth/login", {"email": email, "password": PASSWORD}).status == 200

    page.goto(link)  # the link is used now
    assert page.locator("h1").inner_text() == "Lien invalide"


@pytest.mark.browser
def test_expired_link_page_in_chromium_gets_a_new_link(api, page):
    [identity] = fresh_tenant(api)
    email = new_email()
    assert api.post("/v1/registrations", step2(start(api, identity), email)).status == 201
    [link] = links_to(api, email)
    api.set_clock(24 * 3600 + 5)
    try:
        page.goto(link)
        assert page.locator("h1").inner_text() == "Lien expiré"
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_role("button", name="Recevoir un nouveau lien").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Demande enregistrée"
        fresh = links_to(api, email)[-1]
        assert fresh != link
        page.goto(fresh)
        page.get_by_role("button", name="Confirmer mon adresse").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Adresse e-mail confirmée"
    finally:
        api.set_clock(0)
