"""GET /v1/office (contract section 9) and the error titles that send a tenant to the office."""

from __future__ import annotations

import pytest

from oph.platform.office import get_office
from oph.platform.settings import reset_caches
from tests.factories import make_tenant
from tests.handlers.test_register_support import identity, problem

OFFICE = "/v1/office"


@pytest.fixture
def office_env(monkeypatch):
    """The office as a stack configures it (template parameters -> OFFICE_* variables)."""
    values = {
        "OFFICE_ADDRESS": "7 rue de la Paix, 93300 Aubervilliers",
        "OFFICE_PHONE": "01 48 11 22 33",
        "OFFICE_EMAIL": "contact@exemple-office.fr",
        "OFFICE_HOURS": "Lundi au jeudi : 9 h – 12 h; Vendredi : 9 h – 11 h",
        "EMERGENCY_PHONE": "01 48 99 99 99",
        "OFFICE_WEBSITE": "https://office.exemple.fr",
        "CREDITOR_IDENTIFIER": "FR12ZZZ123456",
        "OFFICE_IBAN": "FR76 1111 2222 3333 4444 5555 666",
        "OFFICE_BIC": "ABCDFRPP",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    yield values
    reset_caches()


def test_the_office_is_public_json_and_cacheable(client):
    reply = client.get(OFFICE)
    assert reply.status == 200, reply.text
    assert reply.header("Content-Type").startswith("application/json")
    assert reply.header("Cache-Control") == "public, max-age=300"
    assert reply.header("X-Request-Id")
    body = reply.json()
    assert list(body) == [
        "name",
        "address",
        "phone",
        "email",
        "opening_hours",
        "emergency_phone",
        "website",
        "creditor_identifier",
        "iban",
        "bic",
    ]
    assert body["name"] == "Office Public de l'Habitat d'Aubervilliers"
    assert set(body["address"]) == {"line1", "postal_code", "city"}
    assert body["address"]["postal_code"] == "93300"
    assert isinstance(body["opening_hours"], list) and body["opening_hours"]
    assert body == get_office().as_api()


def test_the_office_comes_from_the_stacks_configuration(client, office_env):
    body = client.get(OFFICE).json()
    assert body == {
        "name": "Office Public de l'Habitat d'Aubervilliers",
        "address": {"line1": "7 rue de la Paix", "postal_code": "93300", "city": "Aubervilliers"},
        "phone": "01 48 11 22 33",
        "email": "contact@exemple-office.fr",
        "opening_hours": ["Lundi au jeudi : 9 h – 12 h", "Vendredi : 9 h – 11 h"],
        "emergency_phone": "01 48 99 99 99",
        "website": "https://office.exemple.fr",
        "creditor_identifier": "FR12ZZZ123456",
        "iban": "FR76 1111 2222 3333 4444 5555 666",
        "bic": "ABCDFRPP",
    }


def test_an_access_token_is_not_needed_and_a_bad_one_is_ignored(client):
    assert client.get(OFFICE, token="pas-un-jeton").status == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_the_office_is_read_only(client, method):
    assert client.request(method, OFFICE, json_body={}).status in (403, 404, 405)


def test_identity_mismatch_repeats_the_hint_and_gives_the_offices_phone(client, runtime, office_env):
    tenant = make_tenant()
    reply = client.post("/v1/registrations/identity", json={**identity(tenant), "first_name": "Paul"})
    body = problem(reply, 400, "identity_mismatch")
    assert body["title"] == (
        "Les informations saisies ne correspondent pas à celles de l'Office. Votre numéro d'intitulé est à "
        "retrouver sur vos avis d'échéance. En cas de difficulté, contactez l'Office au 01 48 11 22 33."
    )


def test_account_disabled_gives_the_offices_phone(client, runtime, office_env):
    from oph.accounts.admin import set_disabled
    from tests.factories import tenant_with_login

    _, login = tenant_with_login()
    assert set_disabled(login.account.email, True)
    body = problem(client.get("/v1/account", token=login.access_token), 403, "account_disabled")
    assert body["title"] == "Votre compte a été désactivé. Contactez l'Office au 01 48 11 22 33 pour le réactiver."
