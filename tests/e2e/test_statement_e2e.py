"""The tenant account over HTTP against the local server: the demo tenant's journey in numbers
(balance 610,68 €, net à payer 830,68 €, the statement, the quittance refused after 220,00 €
then issued after 830,68 €), and the statement JSON with reconciliation and its 422s.

The payments go through the sandbox exactly as a tenant's do (checkout form, test card,
the signed notification the sandbox sends before redirecting). The server's clock is the real
one: every payment is made after the 2019 balance date.
"""

from __future__ import annotations

import html
import re
import secrets
import uuid
from urllib.parse import urlencode, urlsplit

import pytest

from tests.e2e.tenants import register_holder, register_tenant
from tests.fixtures import DEMO

pytestmark = pytest.mark.e2e

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MOVEMENT_HEADER = "tenant_number;date;label;amount;reference"


def _pay(api, token: str, amount: int) -> str:
    """A payment made with the sandbox's accepted test card; its id."""
    created = api.post(
        "/v1/payments", {"amount_cents": amount}, token=token, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert created.status == 201, created.text
    payment = created.json()
    parts = urlsplit(payment["checkout_url"])
    page = api.get(parts.path, query=parts.query).text
    form = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    }
    submit = {**form, "card_number": "4970 1000 0000 0003"}
    assert api.request("POST", "/sandbox/payment/submit", body=urlencode(submit), headers=FORM).status == 303
    assert api.get(f"/v1/payments/{payment['id']}", token=token).json()["status"] == "succeeded"
    return str(payment["id"])


def _demo_token(api) -> str:
    """The demo tenant, registered and logged in (after a reset if an earlier run registered it)."""
    if api.post("/v1/registrations/identity", DEMO).status == 409:
        api.reset()
    return register_holder(
        api, DEMO["tenant_number"], DEMO["last_name"], DEMO["first_name"], DEMO["birth_date"], prefix="demo"
    ).access_token


def _import_movements(api, name: str, rows: list[str]) -> dict:
    body = "\n".join([MOVEMENT_HEADER, *rows]) + "\n"
    reply = api.request(
        "POST",
        "/_dev/imports/movements",
        query=f"name={name}",
        body=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert reply.status == 200, reply.text
    return reply.json()


def test_the_demo_journey_in_numbers(api):
    token = _demo_token(api)
    balance = api.get("/v1/payments/balance", token=token).json()
    assert balance == {
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
        "pending_cents": 0,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 83068,
    }

    # the statement of the seeded account: what explains the 610,68 €
    account = api.get("/v1/payments/statement", query="from=2019-01-01&to=2019-05-31", token=token).json()
    assert account["opening_balance_cents"] == 0
    assert account["items"][0]["label"] == "Report à nouveau" and account["items"][0]["amount_cents"] == 45068
    assert {i["source"] for i in account["items"]} == {"office"}
    assert account["items"][-1]["balance_cents"] == account["closing_balance_cents"] == 61068
    assert account["amount_to_pay_cents"] == 83068

    # 220,00 € pays older rent first: no quittance for May
    first = _pay(api, token, 22000)
    assert api.get("/v1/payments/balance", token=token).json()["amount_to_pay_cents"] == 61068
    refused = api.post("/v1/documents/receipts", {"period": "2019-05"}, token=token)
    assert refused.status == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("period", "period_unpaid")]

    # 830,68 € in all: May is paid, its quittance is made
    second = _pay(api, token, 61068)
    after = api.get("/v1/payments/balance", token=token).json()
    assert (after["pending_cents"], after["amount_to_pay_cents"]) == (83068, 0)
    made = api.post("/v1/documents/receipts", {"period": "2019-05"}, token=token)
    assert made.status == 201, made.text
    assert (made.json()["title"], made.json()["amount_cents"]) == ("Quittance de loyer — mai 2019", 22000)
    listed = api.get("/v1/documents", query="type=receipt", token=token).json()["items"]
    assert [d["id"] for d in listed] == [made.json()["id"]]

    # the default statement (the year to today): the two payments after the 2019 balance
    statement = api.get("/v1/payments/statement", token=token).json()
    assert statement["opening_balance_cents"] == 61068
    assert [(i["label"], i["amount_cents"], i["source"], i["reference"]) for i in statement["items"]] == [
        ("Paiement en ligne", -22000, "online", first),
        ("Paiement en ligne", -61068, "online", second),
    ]
    assert (statement["closing_balance_cents"], statement["amount_to_pay_cents"]) == (-22000, 0)


def test_statement_json_reconciliation_and_its_422s(api):
    tenant = register_tenant(api, prefix="releve", first_digit=6)  # 220,00 € owed on 2019-05-23
    token = tenant.access_token
    without = api.get("/v1/payments/statement", query="from=2019-05-01&to=2019-05-31", token=token)
    assert without.status == 200 and without.header("Content-Type").startswith("application/json")
    assert without.json()["items"] == [
        {
            "date": "2019-05-23",
            "label": "Solde au 23/05/2019",
            "amount_cents": 22000,
            "balance_cents": 22000,
            "source": "office",
            "reference": "",
        }
    ]
    number = tenant.tenant_number
    report = _import_movements(
        api,
        f"releve-{number}.csv",
        [f"{number};31/12/2018;Report à nouveau;390,68;M-1", f"{number};05/05/2019;Virement;-180,00;M-2"],
    )
    assert report["rows_accepted"] == 2
    body = api.get("/v1/payments/statement", query="from=2019-01-01&to=2019-05-31", token=token).json()
    assert body == {
        "from": "2019-01-01",
        "to": "2019-05-31",
        "opening_balance_cents": 39068,
        "items": [
            {
                "date": "2019-05-05",
                "label": "Virement",
                "amount_cents": -18000,
                "balance_cents": 21068,
                "source": "office",
                "reference": "M-2",
            }
        ],
        "closing_balance_cents": 21068,
        "amount_to_pay_cents": 21068,
    }

    paid = _pay(api, token, 22000)
    online = api.get("/v1/payments/statement", token=token).json()
    assert [(i["source"], i["reference"]) for i in online["items"]] == [("online", paid)]
    assert online["closing_balance_cents"] == -932 and online["amount_to_pay_cents"] == 0
    day = online["items"][0]["date"]
    # the office exports it once the bank has paid it out: reconciled, counted once
    _import_movements(api, f"releve-{number}-cb.csv", [f"{number};{day};Paiement CB;-220,00;{paid}"])
    balance = api.get("/v1/payments/balance", token=token).json()
    assert (balance["balance_cents"], balance["balance_date"], balance["pending_cents"]) == (-932, day, 0)
    reconciled = api.get("/v1/payments/statement", token=token).json()
    assert [(i["source"], i["reference"], i["balance_cents"]) for i in reconciled["items"]] == [("office", paid, -932)]

    def errors(query: str):
        reply = api.get("/v1/payments/statement", query=query, token=token)
        assert reply.status == 422 and reply.header("Content-Type").startswith("application/problem+json")
        return [(e["field"], e["code"]) for e in reply.json()["errors"]]

    assert errors("from=2017-05-30&to=2019-05-31") == [("from", "range_too_long")]
    assert errors("from=2019-06-01&to=2019-05-31") == [("from", "invalid_format")]
    assert errors("from=2019-02-30&to=31%2F05%2F2019") == [("from", "invalid_format"), ("to", "invalid_format")]
    assert api.get("/v1/payments/statement").status == 401
    stranger = register_tenant(api, prefix="releve", first_digit=6, last_name=f"X{secrets.token_hex(3).upper()}")
    assert paid not in api.get("/v1/payments/statement", token=stranger.access_token).text
