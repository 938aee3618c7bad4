"""POST /v1/documents/statements through the notices function (contract section 8): the relevé
de compte as a PDF document, listed as a ``statement`` and downloaded like any document."""

from __future__ import annotations

import pytest
import requests

from oph.platform import clock
from oph.tenancy.model import Movement
from oph.tenancy.store import tenancy_store
from tests.factories import tenant_with_login
from tests.handlers.test_import_support import pdf_text

RANGE = {"from": "2019-01-01", "to": "2019-05-31"}
MOVEMENTS = [
    ("2018-12-31", "Report à nouveau", 39068, "M-1"),
    ("2019-01-24", "Loyer janvier 2019", 22000, "M-2"),
    ("2019-02-05", "APL janvier 2019", -12000, "M-3"),
    ("2019-05-05", "Virement", -18000, "M-4"),
]


@pytest.fixture
def tenant(runtime, aws):
    """A logged-in tenant whose account has four movements (310,68 € owed on 05/05/2019)."""
    tenant, login = tenant_with_login(balance_cents=61068, balance_date="2019-05-23")
    number = tenant.holder.tenant_number
    failed = tenancy_store().put_movements(
        [Movement(number, d, label, cents, ref) for d, label, cents, ref in MOVEMENTS]
    )
    assert failed == []
    return tenant, login


def ask(client, login, body):
    return client.post("/v1/documents/statements", body, token=login.access_token)


def test_a_statement_is_made_listed_and_downloaded(client, tenant):
    owner, login = tenant
    reply = ask(client, login, RANGE)
    assert reply.status == 201, reply.text
    item = reply.json()
    assert item == {
        "id": item["id"],
        "type": "statement",
        "title": "Relevé de compte — du 01/01/2019 au 31/05/2019",
        "issued_on": clock.paris_today(),
        "period": None,
    }
    listed = client.get("/v1/documents", token=login.access_token).json()["items"]
    assert item in listed
    only = client.get("/v1/documents", query="type=statement", token=login.access_token).json()["items"]
    assert only == [item]
    link = client.get(f"/v1/documents/{item['id']}/download", token=login.access_token).json()
    assert link["filename"] == "releve-compte-2019-01-01-2019-05-31.pdf" and link["expires_in"] == 300
    assert f"/tenants/{owner.holder.tenant_number}/statements/" in requests.utils.unquote(link["url"])
    fetched = requests.get(link["url"], timeout=10)
    assert fetched.status_code == 200
    text = pdf_text(fetched.content)
    assert "RELEVÉ DE COMPTE" in text and "Du 01/01/2019 au 31/05/2019" in text
    assert owner.holder.tenant_number in text
    virement = next(line for line in text.splitlines() if "Virement" in line)
    assert virement.split()[-4:] == ["180,00", "€", "310,68", "€"]
    closing = [line for line in text.splitlines() if "Solde au 31/05/2019" in line]
    assert closing[-1].rstrip().endswith("310,68 €")


def test_the_same_range_the_same_day_returns_the_same_document(client, tenant):
    _, login = tenant
    first = ask(client, login, RANGE)
    again = ask(client, login, RANGE)
    assert (first.status, again.status) == (201, 200)
    assert again.json() == first.json()
    other = ask(client, login, {"from": "2019-02-01", "to": "2019-05-31"})
    assert other.status == 201 and other.json()["id"] != first.json()["id"]
    statements = client.get("/v1/documents", query="type=statement", token=login.access_token).json()["items"]
    assert len(statements) == 2


def test_both_dates_are_optional(client, tenant):
    _, login = tenant
    reply = ask(client, login, {})
    assert reply.status == 201
    today = clock.paris_today()
    assert reply.json()["title"].endswith(f"au {today[8:10]}/{today[5:7]}/{today[:4]}")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"from": "2017-01-01", "to": "2019-05-31"}, "from", "range_too_long"),
        ({"from": "2019-06-01", "to": "2019-05-31"}, "from", "invalid_format"),
        ({"from": "2019-01-01", "to": "31/05/2019"}, "to", "invalid_format"),
        ({"from": "2019-02-30", "to": "2019-05-31"}, "from", "invalid_format"),
        ({"from": 20190101}, "from", "invalid_format"),
        ({"since": "2019-01-01"}, "since", "unknown_field"),
    ],
)
def test_ranges_are_validated_like_the_json_statement(client, tenant, body, field, code):
    _, login = tenant
    reply = ask(client, login, body)
    assert reply.status == 422
    problem = reply.json()
    assert problem["code"] == "validation_error"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]
    assert client.get("/v1/documents", query="type=statement", token=login.access_token).json() == {"items": []}


def test_another_tenants_statement_is_not_found(client, tenant):
    _, login = tenant
    doc_id = ask(client, login, RANGE).json()["id"]
    _, stranger = tenant_with_login()
    reply = client.get(f"/v1/documents/{doc_id}/download", token=stranger.access_token)
    assert reply.status == 404 and reply.json()["code"] == "not_found"
    assert client.get("/v1/documents", query="type=statement", token=stranger.access_token).json() == {"items": []}


def test_a_token_is_required(client):
    reply = client.post("/v1/documents/statements", RANGE)
    assert reply.status == 401 and reply.json()["code"] == "unauthorized"
