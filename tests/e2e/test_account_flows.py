"""Account over real HTTP against the local server: "Mes infos", the e-mail change and its
concurrent claim race, password change revocation, deletion, export, and the confirm-email page
in headless Chromium."""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from html import unescape
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Cheval-Pile-42"
NEW_PASSWORD = "Velo-Rouge-Tulipe-93"
TENANTS_HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)
NOTICES_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"


@dataclass
class Holder:
    tenant_number: str
    last_name: str
    first_name: str
    email: str
    tokens: dict

    @property
    def access(self) -> str:
        return str(self.tokens["access_token"])


def _import(api, kind: str, name: str, csv: str) -> None:
    reply = api.request(
        "POST", f"/_dev/imports/{kind}", query=f"name={name}", body=csv.encode(), headers={"Content-Type": "text/csv"}
    )
    assert reply.status == 200, reply.text
    assert reply.json()["rows_rejected"] == 0, reply.text


def _register(api, last_name: str = "MARTIN", first_name: str = "Sophie", number: str | None = None) -> Holder:
    """A fresh tenant imported by the office, registered and verified through the real API."""
    number = number or str(secrets.randbelow(10**8) + 10**8)
    _import(
        api,
        "tenants",
        f"acct-{number}-{first_name}.csv",
        f"{TENANTS_HEADER}\n{number};{last_name};{first_name};1980-02-29;C{number};T{number};"
        "12 Rue du Moutier;93300;AUBERVILLIERS;0,00;23/05/2019\n",
    )
    identity = {"tenant_number": number, "last_name": last_name, "first_name": first_name, "birth_date": "1980-02-29"}
    step1 = api.post("/v1/registrations/identity", identity)
    assert step1.status == 200, step1.text
    email = f"acct-{uuid.uuid4().hex[:12]}@exemple.com"
    step2 = api.post(
        "/v1/registrations",
        {
            "registration_token": step1.json()["registration_token"],
            "email": email,
            "email_confirmation": email,
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
            "accept_terms": True,
        },
    )
    assert step2.status == 201, step2.text
    [verify] = _links(api, email, "verify-email")
    assert api.post("/v1/registrations/verify", {"token": _token(verify)}).status == 200
    return Holder(number, last_name, first_name, email, _login(api, email))


def _login(api, email: str, password: str = PASSWORD) -> dict:
    reply = api.post("/v1/auth/login", {"email": email, "password": password})
    assert reply.status == 200, reply.text
    return reply.json()


def _links(api, email: str, page: str) -> list[str]:
    found = []
    for message in api.outbox():
        if email in message["to"]:
            found += re.findall(rf"https?://\S+/links/{page}\?token=[A-Za-z0-9_%-]+", message["text"])
    return found


def _token(link: str) -> str:
    return link.split("token=", 1)[1]


def _request_change(api, holder: Holder, new: str):
    return api.post("/v1/account/email", {"new_email": new, "current_password": PASSWORD}, token=holder.access)


def _confirm(api, holder: Holder, token: str):
    return api.post("/v1/account/email/confirm", {"token": token}, token=holder.access)


def test_mes_infos_come_from_the_office_records(api):
    holder = _register(api, "N'DIAYE", "Aminata")
    reply = api.get("/v1/account", token=holder.access)
    assert reply.status == 200
    body = reply.json()
    assert body["tenant_number"] == holder.tenant_number
    assert (body["first_name"], body["last_name"]) == ("Aminata", "N'DIAYE")
    assert body["email"] == holder.email
    assert body["pending_email"] is None
    assert body["email_status"] == "ok"
    assert (body["contract_number"], body["third_party_number"]) == (
        f"C{holder.tenant_number}",
        f"T{holder.tenant_number}",
    )
    assert body["address"] == {"line1": "12 Rue du Moutier", "postal_code": "93300", "city": "AUBERVILLIERS"}
    for instant in (body["created_at"], body["terms_accepted_at"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", instant)


def test_email_change_end_to_end(api):
    holder = _register(api)
    new = f"nouvelle-{uuid.uuid4().hex[:10]}@exemple.com"
    reply = _request_change(api, holder, new)
    assert reply.status == 202, reply.text
    assert reply.json()["pending_email"] == new

    [message] = [m for m in api.outbox() if new in m["to"]]
    assert message["from"] == "informatique@oph-aubervilliers.fr"
    [link] = _links(api, new, "confirm-email")
    assert link.startswith(api.base + "/links/confirm-email?token=")  # PUBLIC_BASE_URL is the API locally
    told = [m for m in api.outbox() if holder.email in m["to"] and "changement" in m["subject"]]
    assert len(told) == 1

    # A mail scanner opens the link first: nothing is consumed.
    page = api.get(urlsplit(link).path, query=urlsplit(link).query)
    assert page.status == 200
    assert "téléphone" in unescape(page.text)
    assert api.post("/v1/auth/login", {"email": new, "password": PASSWORD}).status == 401

    confirmed = _confirm(api, holder, _token(link))
    assert confirmed.status == 200, confirmed.text
    assert confirmed.json()["email"] == new and confirmed.json()["pending_email"] is None
    assert api.post("/v1/auth/login", {"email": new, "password": PASSWORD}).status == 200
    assert api.post("/v1/auth/login", {"email": holder.email, "password": PASSWORD}).status == 401
    assert _confirm(api, holder, _token(link)).json()["code"] == "token_invalid"


def test_pending_email_expires_after_24_hours(api):
    holder = _register(api)
    new = f"plus-tard-{uuid.uuid4().hex[:10]}@exemple.com"
    _request_change(api, holder, new)
    [link] = _links(api, new, "confirm-email")
    try:
        api.set_clock(24 * 3600 + 5)
        fresh = Holder(**{**holder.__dict__, "tokens": _login(api, holder.email)})
        assert api.get("/v1/account", token=fresh.access).json()["pending_email"] is None
        expired = _confirm(api, fresh, _token(link))
        assert expired.status == 400 and expired.json()["code"] == "token_expired"
        page = api.get(urlsplit(link).path, query=urlsplit(link).query)
        assert page.status == 400 and "Ce lien a expiré." in page.text
    finally:
        api.set_clock(0)


def _at_the_same_instant(api, claims: dict[str, tuple[Holder, str]]) -> dict:
    """Confirm each (holder, link) from its own thread, all released by one barrier."""
    barrier = threading.Barrier(len(claims))
    results: dict = {}

    def claim(name: str, holder: Holder, link: str) -> None:
        barrier.wait()
        results[name] = _confirm(api, holder, _token(link))

    threads = [threading.Thread(target=claim, args=(name, *pair)) for name, pair in claims.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_claims_of_one_address_exactly_one_wins(api):
    """Two accounts confirm the same new address at the same instant, several times over."""
    for _ in range(4):
        a, b = _register(api), _register(api)
        new = f"convoitee-{uuid.uuid4().hex[:10]}@exemple.com"
        assert _request_change(api, a, new).status == 202
        assert _request_change(api, b, new).status == 202
        link_a, link_b = _links(api, new, "confirm-email")  # oldest first: a's, then b's

        results = _at_the_same_instant(api, {"a": (a, link_a), "b": (b, link_b)})
        statuses = sorted(reply.status for reply in results.values())
        assert statuses == [200, 409], [r.text for r in results.values()]

        winner, loser = (a, b) if results["a"].status == 200 else (b, a)
        assert results["b" if winner is a else "a"].json()["code"] == "email_taken"
        assert api.get("/v1/account", token=winner.access).json()["email"] == new
        assert api.get("/v1/account", token=loser.access).json()["email"] == loser.email
        # No orphan: the loser still logs in with the old address, the winner with the new one only.
        assert api.post("/v1/auth/login", {"email": loser.email, "password": PASSWORD}).status == 200
        assert api.post("/v1/auth/login", {"email": new, "password": PASSWORD}).status == 200
        assert api.post("/v1/auth/login", {"email": winner.email, "password": PASSWORD}).status == 401


def test_password_change_revokes_every_earlier_token(api):
    holder = _register(api)
    other_device = _login(api, holder.email)
    reply = api.put(
        "/v1/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirmation": NEW_PASSWORD},
        token=holder.access,
    )
    assert reply.status == 200, reply.text
    fresh = reply.json()
    for earlier in (holder.tokens, other_device):
        assert api.get("/v1/account", token=earlier["access_token"]).status == 401
        refused = api.post("/v1/auth/refresh", {"refresh_token": earlier["refresh_token"]})
        assert refused.status == 401 and refused.json()["code"] == "unauthorized"
    assert api.get("/v1/account", token=fresh["access_token"]).status == 200
    assert api.post("/v1/auth/refresh", {"refresh_token": fresh["refresh_token"]}).status == 200
    assert [m["subject"] for m in api.outbox() if holder.email in m["to"]][-1] == "Votre mot de passe a été modifié"
    assert api.post("/v1/auth/login", {"email": holder.email, "password": NEW_PASSWORD}).status == 200


def test_delete_then_register_again(api):
    holder = _register(api)
    refused = api.delete("/v1/account", {"current_password": "Mauvais-2-Passe"}, token=holder.access)
    assert refused.status == 403 and refused.json()["code"] == "current_password_invalid"
    reply = api.delete("/v1/account", {"current_password": PASSWORD}, token=holder.access)
    assert reply.status == 204
    assert api.get("/v1/account", token=holder.access).status == 401
    assert api.post("/v1/auth/refresh", {"refresh_token": holder.tokens["refresh_token"]}).status == 401
    assert api.post("/v1/auth/login", {"email": holder.email, "password": PASSWORD}).status == 401
    # Same holder, same tenant number: registration starts over (not 409 account_exists).
    again = _register(api, number=holder.tenant_number)
    assert api.get("/v1/account", token=again.access).json()["tenant_number"] == holder.tenant_number


def test_export_holds_nothing_of_another_tenant(api):
    mine, theirs = _register(api), _register(api, "ZORGLUB", "Xavier")
    period_csv = (
        f"{NOTICES_HEADER}\n"
        f"{mine.tenant_number};2019-05;24/05/2019;10/06/2019;Loyer;rent;175,03;610,68;23/05/2019\n"
        f"{theirs.tenant_number};2019-05;24/05/2019;10/06/2019;Loyer;rent;433,21;999,99;23/05/2019\n"
    )
    _import(api, "notices", f"acct-{mine.tenant_number}.csv", period_csv)
    reply = api.get("/v1/account/export", token=mine.access)
    assert reply.status == 200
    assert reply.header("Content-Disposition") == 'attachment; filename="mes-donnees.json"'
    body = reply.json()
    assert body["account"]["email"] == mine.email
    assert body["holder"]["tenant_number"] == mine.tenant_number
    assert [d["period"] for d in body["documents"]] == ["2019-05"]
    assert body["documents"][0]["amount_due_cents"] == 17503
    for secret in (theirs.tenant_number, theirs.email, "ZORGLUB", "Xavier"):
        assert secret not in reply.text, secret
    # Their amounts, as whole numbers (cents): not as digits inside a longer number (an epoch
    # timestamp such as 1795943321 once contained "43321").
    for cents in ("43321", "99999"):
        assert not re.search(rf"(?<![0-9]){cents}(?![0-9])", reply.text), cents
    assert "password" not in reply.text


@pytest.mark.browser
def test_confirm_email_page_in_chromium_never_consumes_the_link(api, page):
    holder = _register(api)
    new = f"navigateur-{uuid.uuid4().hex[:10]}@exemple.com"
    _request_change(api, holder, new)
    [link] = _links(api, new, "confirm-email")

    page.goto(link)
    assert page.title().startswith("Confirmez votre nouvelle adresse e-mail")
    assert page.locator("h1").inner_text() == "Confirmez votre nouvelle adresse e-mail"
    text = page.locator("main").inner_text()
    assert "Ouvrez ce lien sur le téléphone où l'application Mon espace locataire est installée" in text
    assert page.locator("a", has_text="Ouvrir dans l'application").count() == 1
    assert page.locator("form").count() == 0  # nothing to submit from a browser
    page.reload()
    assert "téléphone" in page.locator("main").inner_text()

    confirmed = _confirm(api, holder, _token(link))
    assert confirmed.status == 200, confirmed.text
    assert confirmed.json()["email"] == new

    page.goto(link)  # once used, the page says so
    assert "Ce lien n'est pas valide ou a déjà été utilisé." in page.locator("main").inner_text()
