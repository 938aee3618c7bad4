"""The tenant account through the handlers: the balance's net à payer, reconciliation of an
online payment by an imported movement, the statement (contract section 8) and its 422s, and
what is paid — oldest debt first — for the quittance route (section 5)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from oph.platform import clock
from tests.factories import tenant_with_login
from tests.handlers import test_payments_support as support
from tests.handlers.test_import_support import NOTICE_HEADER, csv_bytes, run_import
from tests.handlers.test_payments_support import genuine_notification, new_payment, notify, stored

TODAY = "2019-05-28"  # the clock of these tests (Paris): payments are made that day


@pytest.fixture
def payer(runtime, clock_offset):
    """A tenant with a logged-in holder (balance 610,68 € on 2019-05-23), on 2019-05-28."""
    clock_offset(datetime(2019, 5, 28, 10, 0, tzinfo=UTC).timestamp() - time.time())
    return tenant_with_login(balance_cents=61068, balance_date="2019-05-23")


DEMO_MAY = [
    "{n};2019-05;24/05/2019;10/06/2019;Loyer;rent;175,03;;",
    "{n};2019-05;24/05/2019;10/06/2019;Provisions charges générales LG;charges;7,76;;",
    "{n};2019-05;24/05/2019;10/06/2019;Provisions charges générales SH;charges;14,72;;",
    "{n};2019-05;24/05/2019;10/06/2019;Provisions chauffage;charges;19,55;;",
    "{n};2019-05;24/05/2019;10/06/2019;Divers appareils chauffage;charges;2,94;;",
]


@pytest.fixture
def demo(runtime, aws, payer):
    """A tenancy like the demo's: 610,68 € owed on 2019-05-23 and the 220,00 € May notice."""
    tenant, login = payer
    number = tenant.holder.tenant_number
    rows = [row.format(n=number) for row in DEMO_MAY]
    report = run_import(runtime, aws, "notices", f"{uuid.uuid4().hex}.csv", csv_bytes(NOTICE_HEADER, rows))
    assert report["rows_rejected"] == 0
    return tenant, login


def _pay(client, login, amount):
    payment = new_payment(client, login, amount)
    assert notify(client, genuine_notification(payment["id"])).status == 200
    return payment["id"]


def _balance(client, login):
    reply = client.get("/v1/payments/balance", token=login.access_token)
    assert reply.status == 200
    return reply.json()


def _statement(client, login, query=""):
    return client.get("/v1/payments/statement", query=query, token=login.access_token)


def _movements(number, *rows):
    from oph.tenancy.model import Movement
    from oph.tenancy.store import TenancyStore

    assert TenancyStore().put_movements([Movement(number, *row) for row in rows]) == []


def _receipt(client, login, period="2019-05"):
    return client.post("/v1/documents/receipts", {"period": period}, token=login.access_token)


# ---------------------------------------------------------------- the contract's example
def test_the_demo_journey_older_debt_first_then_the_quittance(client, demo):
    _, login = demo
    assert _balance(client, login) == {
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
        "pending_cents": 0,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 83068,
    }
    _pay(client, login, 22000)
    refused = _receipt(client, login)
    assert refused.status == 422
    assert refused.json()["errors"] == [
        {
            "field": "period",
            "code": "period_unpaid",
            "message": "Vos paiements ont d'abord réglé des sommes dues plus anciennes : "
            "cette période n'est pas encore payée.",
        }
    ]
    assert _balance(client, login)["amount_to_pay_cents"] == 61068
    _pay(client, login, 61068)  # 830,68 € in all
    made = _receipt(client, login)
    assert made.status == 201, made.text
    assert made.json()["title"] == "Quittance de loyer — mai 2019" and made.json()["amount_cents"] == 22000
    assert _balance(client, login)["amount_to_pay_cents"] == 0
    assert _receipt(client, login).json() == made.json()


def test_co_holders_see_the_same_figures(client, demo):
    tenant, login = demo
    co_holder = support.co_holder_login(tenant)
    _pay(client, login, 22000)
    assert _balance(client, co_holder) == _balance(client, login)
    assert _statement(client, co_holder).json() == _statement(client, login).json()
    assert _receipt(client, co_holder).status == 422
    stranger = support.tenant_with_login()[1]
    assert [(i["label"], i["amount_cents"]) for i in _statement(client, stranger).json()["items"]] == [
        ("Solde au 23/05/2019", 0)
    ]
    assert _balance(client, stranger)["pending_cents"] == 0


# ---------------------------------------------------------------- movements and reconciliation
def test_movements_set_the_balance_and_a_payment_they_reference_is_reconciled(client, demo):
    tenant, login = demo
    number = tenant.holder.tenant_number
    _movements(
        number,
        ("2019-01-01", "Report à nouveau", 39068, "M-88001"),
        ("2019-04-24", "Loyer avril 2019", 22000, "M-88310"),
    )
    # the movements, not the imported 610,68 €, are the balance now
    assert _balance(client, login) == {
        "balance_cents": 61068,
        "balance_date": "2019-04-24",
        "pending_cents": 0,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 83068,
    }
    payment_id = _pay(client, login, 22000)
    assert _balance(client, login)["pending_cents"] == 22000
    assert clock.paris_date(str(stored(payment_id).paid_at)) == TODAY
    paid_on = "2019-05-30"  # paid out by the bank two days later
    _movements(number, (paid_on, "Paiement CB", -22000, payment_id))
    body = _balance(client, login)
    assert (body["balance_cents"], body["balance_date"], body["pending_cents"]) == (39068, paid_on, 0)
    assert body["amount_to_pay_cents"] == 39068  # May is in the balance of that date
    items = _statement(client, login, f"from=2019-01-01&to={paid_on}").json()["items"]
    assert [(i["reference"], i["source"]) for i in items].count((payment_id, "office")) == 1
    assert all(i["source"] == "office" for i in items)


def test_the_statement_over_movements_and_an_unreconciled_payment(client, payer):
    tenant, login = payer
    number = tenant.holder.tenant_number
    _movements(
        number,
        ("2018-12-31", "Report à nouveau", 39068, "M-88001"),
        ("2019-05-05", "Virement", -18000, "M-88412"),
    )
    payment_id = _pay(client, login, 22000)
    today = clock.paris_date(str(stored(payment_id).paid_at))
    assert today == TODAY
    reply = _statement(client, login, "from=2019-01-01&to=2019-05-31")
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("application/json")
    assert reply.json() == {
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
                "reference": "M-88412",
            },
            {
                "date": today,
                "label": "Paiement en ligne",
                "amount_cents": -22000,
                "balance_cents": -932,
                "source": "online",
                "reference": payment_id,
            },
        ],
        "closing_balance_cents": -932,
        "amount_to_pay_cents": 0,
    }
    only_may = _statement(client, login, "from=2019-05-05&to=2019-05-05").json()
    assert only_may["opening_balance_cents"] == 39068 and len(only_may["items"]) == 1


def test_without_movements_the_imported_balance_then_the_online_payments(client, payer):
    _, login = payer
    payment_id = _pay(client, login, 22000)
    today = clock.paris_date(str(stored(payment_id).paid_at))
    body = _statement(client, login, "from=2019-05-01").json()
    assert [(i["date"], i["label"], i["amount_cents"], i["balance_cents"], i["source"]) for i in body["items"]] == [
        ("2019-05-23", "Solde au 23/05/2019", 61068, 61068, "office"),
        (today, "Paiement en ligne", -22000, 39068, "online"),
    ]
    assert body["opening_balance_cents"] == 0 and body["closing_balance_cents"] == 39068
    assert body["amount_to_pay_cents"] == 39068


def test_the_default_range_is_the_year_to_today(client, payer):
    _, login = payer
    reply = _statement(client, login)
    assert reply.status == 200
    body = reply.json()
    assert (body["from"], body["to"]) == ("2018-05-29", TODAY)
    assert (body["opening_balance_cents"], body["closing_balance_cents"]) == (0, 61068)
    assert _statement(client, login, "to=2019-05-31").json()["from"] == "2018-06-01"
    # a range after the balance: it is the opening balance
    later = _statement(client, login, "from=2019-05-24").json()
    assert (later["opening_balance_cents"], later["items"], later["closing_balance_cents"]) == (61068, [], 61068)


# ---------------------------------------------------------------- 422s
def _errors(reply):
    assert reply.status == 422, reply.text
    body = reply.json()
    assert body["code"] == "validation_error"
    return [(e["field"], e["code"]) for e in body["errors"]]


def test_a_range_over_731_days_is_range_too_long_on_from(client, payer):
    _, login = payer
    assert _statement(client, login, "from=2017-05-31&to=2019-05-31").status == 200  # 731 days
    assert _errors(_statement(client, login, "from=2017-05-27")) == [("from", "range_too_long")]  # to today
    reply = _statement(client, login, "from=2017-05-30&to=2019-05-31")
    assert _errors(reply) == [("from", "range_too_long")]
    assert reply.json()["errors"][0]["message"] == "La période demandée ne peut pas dépasser deux ans (731 jours)."


def test_from_after_to_and_malformed_dates_are_invalid_format(client, payer):
    _, login = payer
    assert _errors(_statement(client, login, "from=2019-06-01&to=2019-05-31")) == [("from", "invalid_format")]
    assert _errors(_statement(client, login, "from=2019-02-30")) == [("from", "invalid_format")]
    assert _errors(_statement(client, login, "from=2019-01-01&to=31%2F05%2F2019")) == [("to", "invalid_format")]
    assert _errors(_statement(client, login, "from=x&to=")) == [("from", "invalid_format"), ("to", "invalid_format")]


def test_the_statement_is_authenticated_and_not_a_payment_id(client, payer):
    _, login = payer
    assert client.get("/v1/payments/statement").status == 401
    reply = _statement(client, login)
    assert reply.status == 200 and "opening_balance_cents" in reply.json()
    assert client.get("/v1/payments/nope", token=login.access_token).status == 404


def test_a_refused_or_unfinished_payment_is_not_on_the_statement(client, payer):
    _, login = payer
    refused = new_payment(client, login, 9000)
    notify(client, genuine_notification(refused["id"], "REFUSED"))
    new_payment(client, login, 7000)
    body = _statement(client, login, "from=2019-01-01").json()
    assert [i["source"] for i in body["items"]] == ["office"]
