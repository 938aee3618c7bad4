"""Authentication over real HTTP against the local server: races, throttling with the moved
clock, the admins' disable switch, and the reset-password page in headless Chromium."""

from __future__ import annotations

import re
import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Cheval-Pile-42"
NEW = "Nouveau-Mdp-2024!"
HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)


def registered(api):
    """A fresh, verified account created through the real API (import, steps 1-3)."""
    number = str(secrets.randbelow(10**8) + 10**8)
    csv = f"{HEADER}\n{number};MARTIN;Sophie;1980-02-29;C{number};T{number};12 Rue du Moutier;93300;AUBERVILLIERS;0,00;23/05/2019\n"
    reply = api.request(
        "POST", "/_dev/imports/tenants", query=f"name=auth-{number}.csv", body=csv, headers={"Content-Type": "text/csv"}
    )
    assert reply.status == 200, reply.text
    identity = {"tenant_number": number, "last_name": "MARTIN", "first_name": "Sophie", "birth_date": "1980-02-29"}
    token = api.post("/v1/registrations/identity", identity).json()["registration_token"]
    email = f"auth-{uuid.uuid4().hex[:12]}@exemple.com"
    reply = api.post(
        "/v1/registrations",
        {
            "registration_token": token,
            "email": email,
            "email_confirmation": email,
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
            "accept_terms": True,
        },
    )
    assert reply.status == 201, reply.text
    [link] = links(api, email, "verify-email")
    assert api.post("/v1/registrations/verify", {"token": token_of(link)}).status == 200
    return email


def links(api, email, page):
    found = []
    for message in api.outbox():
        if email in message["to"]:
            found += re.findall(rf"https?://\S+/links/{page}\?token=[A-Za-z0-9_%-]+", message["text"])
    return found


def token_of(link):
    return parse_qs(urlsplit(link).query)["token"][0]


def login(api, email, password=PASSWORD):
    return api.post("/v1/auth/login", {"email": email, "password": password})


@pytest.mark.browser
def test_reset_page_in_chromium_then_login_with_the_new_password(api, page):
    email = registered(api)
    assert api.post("/v1/auth/password/forgot", {"email": email}).status == 202
    [link] = links(api, email, "reset-password")
    assert link.startswith(api.base + "/links/reset-password?token=")

    page.goto(link)
    assert page.locator("h1").inner_text() == "Nouveau mot de passe"
    assert "entre 8 et 128 caractères" in page.content()
    # a weak password: the form comes back with the reason, and the link still works
    page.fill("#password", "azertyuiop")
    page.fill("#password_confirmation", "azertyuiop")
    page.click("button[type=submit]")
    assert page.locator("ul.errors").count() == 1
    assert login(api, email).status == 200  # nothing changed yet

    page.fill("#password", NEW)
    page.fill("#password_confirmation", NEW)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Mot de passe modifié"
    assert "Votre mot de passe a bien été modifié." in page.content()

    assert login(api, email).status == 401
    assert login(api, email, NEW).status == 200
    assert any(m["subject"] == "Votre mot de passe a été modifié" for m in api.outbox() if email in m["to"])
    # the used link now shows the French error page
    page.goto(link)
    assert "Ce lien n'est pas valide ou a déjà été utilisé." in unescape(page.content())


def test_page_get_never_consumes_the_link(api):
    email = registered(api)
    api.post("/v1/auth/password/forgot", {"email": email})
    [link] = links(api, email, "reset-password")
    for _ in range(3):
        assert api.get(urlsplit(link).path, query=urlsplit(link).query).status == 200
    reply = api.post(
        "/v1/auth/password/reset", {"token": token_of(link), "password": NEW, "password_confirmation": NEW}
    )
    assert reply.status == 204


def test_concurrent_use_of_one_refresh_token_gives_one_successor(api):
    email = registered(api)
    refresh = login(api, email).json()["refresh_token"]
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda _: api.post("/v1/auth/refresh", {"refresh_token": refresh}), range(10)))
    assert sorted(r.status for r in replies).count(200) <= 1
    assert all(r.status in (200, 401) for r in replies)


def test_concurrent_failed_logins_cannot_slip_past_the_throttle(api):
    email = f"inconnu-{uuid.uuid4().hex[:10]}@exemple.com"
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: login(api, email, "Mauvais-Mot-2-Passe"), range(20)))
    statuses = [r.status for r in replies]
    assert set(statuses) <= {401, 429}
    assert 5 <= statuses.count(401) <= 6  # five free failures (a sixth only if the 1 s lock ran out)
    assert all(r.header("Retry-After") for r in replies if r.status == 429)


def test_throttling_with_the_server_clock(api):
    email = registered(api)
    for _ in range(5):
        assert login(api, email, "Mauvais-Mot-2-Passe").status == 401
    locked = login(api, email)
    assert locked.status == 429 and locked.header("Retry-After") == "1"
    api.set_clock(1)
    assert login(api, email, "Mauvais-Mot-2-Passe").status == 401
    assert login(api, email).header("Retry-After") == "2"
    api.set_clock(3)
    assert login(api, email).status == 200  # success resets
    api.set_clock(0)


def test_admin_disable_and_enable(api):
    email = registered(api)
    tokens = login(api, email).json()
    assert api.post("/_dev/accounts/status", {"email": email, "disabled": True}).status == 200
    assert api.get("/v1/account", token=tokens["access_token"]).json()["code"] == "account_disabled"
    assert login(api, email).json()["code"] == "account_disabled"
    assert api.post("/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status == 401
    assert api.post("/_dev/accounts/status", {"email": email, "disabled": False}).status == 200
    assert api.get("/v1/account", token=tokens["access_token"]).json()["code"] == "unauthorized"
    fresh = login(api, email).json()
    assert api.get("/v1/account", token=fresh["access_token"]).status == 200


def test_logout_over_http(api):
    email = registered(api)
    tokens = login(api, email).json()
    assert api.post("/v1/auth/logout", {"refresh_token": tokens["refresh_token"]}).status == 204
    assert api.get("/v1/account", token=tokens["access_token"]).status == 401
    assert api.post("/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status == 401
