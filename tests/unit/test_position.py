"""The tenancy's position (:func:`oph.payments.position.position`): balance from the movements
or the imported balance, reconciliation, pending payments, net à payer, the account's entries;
and the statement built from it (contract sections 6 and 8), on plain values."""

from __future__ import annotations

import pytest

from oph.documents.model import NOTICE, Document
from oph.payments.model import Payment, TenancySnapshot
from oph.payments.position import ONLINE_LABEL, position
from oph.payments.statement import default_from, statement_of, statement_range
from oph.platform.errors import ValidationFailed
from oph.tenancy.model import Movement, Tenancy

NUMBER = "123456"


def notice(period: str, issued_on: str, due_cents: int, due_date: str | None = None) -> Document:
    return Document(
        doc_id=f"n-{period}",
        tenant_number=NUMBER,
        type=NOTICE,
        title="",
        issued_on=issued_on,
        s3_key="",
        filename="",
        period=period,
        due_date=due_date or issued_on,
        amount_due_cents=due_cents,
    )


def online(payment_id: str, amount: int, paid_at: str, status: str = "succeeded") -> Payment:
    return Payment(payment_id=payment_id, amount_cents=amount, status=status, paid_at=paid_at)


def moved(date: str, label: str, amount: int, reference: str) -> Movement:
    return Movement(NUMBER, date, label, amount, reference)


def snapshot(
    *, balance: int | None = 61068, date: str | None = "2019-05-23", notices=(), payments=(), movements=()
) -> TenancySnapshot:
    return TenancySnapshot(
        NUMBER,
        Tenancy(NUMBER, balance_cents=balance, balance_date=date),
        documents={n.doc_id: n for n in notices},
        payments=list(payments),
        movements=list(movements),
    )


MAY = notice("2019-05", "2019-05-24", 22000, "2019-06-10")
# The demo's account: what explains its 610,68 € on 23/05/2019.
DEMO_MOVEMENTS = [
    moved("2019-01-01", "Report à nouveau", 39068, "M-88001"),
    moved("2019-04-24", "Loyer avril 2019", 22000, "M-88310"),
    moved("2019-05-05", "Virement", -18000, "M-88412"),
    moved("2019-05-23", "Frais de relance", 18000, "M-88507"),
]


def test_the_demo_balance_as_the_contract_shows_it():
    state = position(snapshot(notices=[MAY]), today="2019-05-31")
    assert state.as_balance() == {
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
        "pending_cents": 0,
        "amount_due_cents": 22000,
        "due_date": "2019-06-10",
        "amount_to_pay_cents": 83068,
    }
    assert not state.from_movements and state.as_of == "2019-05-31"


def test_movements_set_the_balance_and_its_date_whatever_the_imported_balance():
    state = position(snapshot(balance=100, date="2019-06-30", notices=[MAY], movements=DEMO_MOVEMENTS), today="x")
    assert (state.balance_cents, state.balance_date, state.from_movements) == (61068, "2019-05-23", True)
    assert state.amount_to_pay_cents == 83068


def test_without_anything_imported():
    state = position(TenancySnapshot(NUMBER), today="2019-05-31")
    assert state.as_balance() == {
        "balance_cents": 0,
        "balance_date": None,
        "pending_cents": 0,
        "amount_due_cents": 0,
        "due_date": None,
        "amount_to_pay_cents": 0,
    }
    assert state.entries == ()


def test_a_reconciled_payment_is_in_the_balance_once_and_never_pending():
    pay = online("a1b2c3", 22000, "2019-05-28T10:00:00Z")
    before = position(snapshot(notices=[MAY], payments=[pay], movements=DEMO_MOVEMENTS), today="x")
    assert (before.balance_cents, before.pending_cents, before.amount_to_pay_cents) == (61068, 22000, 61068)
    assert before.reconciled == frozenset()
    paid_out = moved("2019-05-30", "Paiement CB", -22000, "a1b2c3")
    after = position(snapshot(notices=[MAY], payments=[pay], movements=[*DEMO_MOVEMENTS, paid_out]), today="x")
    assert after.reconciled == {"a1b2c3"}
    assert (after.balance_cents, after.balance_date, after.pending_cents) == (39068, "2019-05-30", 0)
    # May was issued before the new balance date: it is in the balance now, so nothing is added
    assert after.amount_to_pay_cents == 39068
    assert [e.reference for e in after.entries].count("a1b2c3") == 1


def test_an_unreconciled_payment_dated_before_the_last_movement_is_still_pending():
    pay = online("late0001", 10000, "2019-05-10T10:00:00Z")  # not paid out yet by the bank
    state = position(snapshot(payments=[pay], movements=DEMO_MOVEMENTS), today="x")
    assert state.pending_cents == 10000
    assert state.amount_to_pay_cents == 51068


def test_a_payment_before_the_first_movement_is_in_the_carried_forward_line():
    pay = online("old00001", 10000, "2018-12-30T10:00:00Z")
    state = position(snapshot(payments=[pay], movements=DEMO_MOVEMENTS), today="x")
    assert state.pending_cents == 0


def test_pending_with_an_imported_balance_is_what_was_paid_after_its_date_in_paris_time():
    payments = [
        online("on0523", 1000, "2019-05-23T12:00:00Z"),  # on the balance date: in the balance
        online("late23", 22000, "2019-05-23T22:30:00Z"),  # the 24th in Paris
        online("jun01", 5000, "2019-06-01T08:00:00Z"),
        online("refused", 9000, "2019-06-01T08:00:00Z", status="refused"),
        Payment(payment_id="created", amount_cents=7000, status="created"),
    ]
    state = position(snapshot(notices=[MAY], payments=payments), today="x")
    assert state.pending_cents == 27000
    assert [p.payment_id for p in state.pending] == ["late23", "jun01"]
    assert state.amount_to_pay_cents == 61068 + 22000 - 27000


def test_the_net_a_payer_is_never_below_zero():
    state = position(
        snapshot(balance=-5000, notices=[MAY], payments=[online("p", 90000, "2019-06-01T08:00:00Z")]), today="x"
    )
    assert state.amount_to_pay_cents == 0
    assert state.balance_cents == -5000


def test_the_latest_notice_gives_the_amount_due():
    april = notice("2019-04", "2019-04-24", 21000, "2019-05-10")
    state = position(snapshot(notices=[MAY, april]), today="x")
    assert (state.amount_due_cents, state.due_date) == (22000, "2019-06-10")


def test_entries_are_the_account_oldest_first_with_the_days_payments_after_its_movements():
    movements = [
        moved("2019-05-05", "Virement", -18000, "M-10"),
        moved("2019-05-05", "Loyer", 22000, "M-9"),
        moved("2019-05-01", "Report à nouveau", 1000, "Z-1"),
    ]
    payments = [online("second", 300, "2019-05-05T18:00:00Z"), online("first", 200, "2019-05-05T08:00:00Z")]
    state = position(snapshot(movements=movements, payments=payments), today="x")
    assert [e.reference for e in state.entries] == ["Z-1", "M-9", "M-10", "first", "second"]
    assert [e.source for e in state.entries] == ["office", "office", "office", "online", "online"]
    assert state.entries[-1].label == ONLINE_LABEL and state.entries[-1].amount_cents == -300
    assert sum(e.amount_cents for e in state.entries) == state.balance_cents - state.pending_cents


def test_without_movements_the_imported_balance_is_one_entry():
    state = position(snapshot(payments=[online("p1", 22000, "2019-05-28T10:00:00Z")]), today="x")
    assert [(e.date, e.label, e.amount_cents, e.source, e.reference) for e in state.entries] == [
        ("2019-05-23", "Solde au 23/05/2019", 61068, "office", ""),
        ("2019-05-28", "Paiement en ligne", -22000, "online", "p1"),
    ]


# ---------------------------------------------------------------- the statement
def test_the_contracts_statement_example():
    movements = [
        moved("2018-12-31", "Report à nouveau", 39068, "M-88001"),
        moved("2019-05-05", "Virement", -18000, "M-88412"),
    ]
    pay = online("a1b2c3d4", 22000, "2019-05-28T10:00:00Z")
    state = position(snapshot(movements=movements, payments=[pay]), today="2019-05-31")
    assert statement_of(state, "2019-01-01", "2019-05-31").as_api() == {
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
                "date": "2019-05-28",
                "label": "Paiement en ligne",
                "amount_cents": -22000,
                "balance_cents": -932,
                "source": "online",
                "reference": "a1b2c3d4",
            },
        ],
        "closing_balance_cents": -932,
        "amount_to_pay_cents": 0,
    }


def test_both_days_are_included_and_the_opening_balance_counts_everything_before():
    pay = online("p1", 500, "2019-04-30T22:30:00Z")  # 1 May in Paris (00:30)
    state = position(snapshot(movements=DEMO_MOVEMENTS, payments=[pay]), today="x")
    result = statement_of(state, "2019-05-01", "2019-05-05")
    assert result.opening_balance_cents == 39068 + 22000
    assert [i.reference for i in result.items] == ["p1", "M-88412"]
    assert result.closing_balance_cents == 39068 + 22000 - 500 - 18000
    assert statement_of(state, "2019-05-02", "2019-05-04").items == []
    assert statement_of(state, "2019-05-02", "2019-05-04").closing_balance_cents == 39068 + 22000 - 500


def test_without_movements_a_balance_before_the_range_is_its_opening():
    state = position(snapshot(payments=[online("p1", 22000, "2019-06-28T10:00:00Z")]), today="x")
    result = statement_of(state, "2019-06-01", "2019-06-30")
    assert result.opening_balance_cents == 61068
    assert [(i.label, i.balance_cents) for i in result.items] == [("Paiement en ligne", 39068)]
    inside = statement_of(state, "2019-05-01", "2019-06-30")
    assert inside.opening_balance_cents == 0
    assert [(i.label, i.balance_cents) for i in inside.items] == [
        ("Solde au 23/05/2019", 61068),
        ("Paiement en ligne", 39068),
    ]


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("2019-05-31", "2018-06-01"),
        ("2020-02-29", "2019-03-01"),
        ("2019-03-01", "2018-03-02"),
        ("2019-12-31", "2019-01-01"),
    ],
)
def test_from_defaults_to_the_day_after_the_same_date_a_year_earlier(to, expected):
    assert default_from(to) == expected
    assert statement_range(None, to, today="2030-01-01") == (expected, to)


def test_to_defaults_to_today():
    assert statement_range(None, None, today="2019-05-31") == ("2018-06-01", "2019-05-31")
    assert statement_range("2019-01-01", None, today="2019-05-31") == ("2019-01-01", "2019-05-31")
    assert statement_range("2019-05-31", "2019-05-31", today="x") == ("2019-05-31", "2019-05-31")


def errors_of(from_date, to_date, today="2019-05-31"):
    with pytest.raises(ValidationFailed) as failed:
        statement_range(from_date, to_date, today=today)
    return [(e.field, e.code) for e in failed.value.errors]


def test_at_most_731_days_both_included():
    assert statement_range("2017-05-31", "2019-05-31", today="x") == ("2017-05-31", "2019-05-31")  # 731 days
    assert errors_of("2017-05-30", "2019-05-31") == [("from", "range_too_long")]
    assert errors_of("2017-05-30", None) == [("from", "range_too_long")]


def test_from_after_to_is_invalid_format_on_from():
    assert errors_of("2019-06-01", "2019-05-31") == [("from", "invalid_format")]
    assert errors_of("2019-06-01", None) == [("from", "invalid_format")]  # after today


@pytest.mark.parametrize("bad", ["", "2019-02-30", "2019-5-01", "31/05/2019", "2019-05-31T00:00:00Z", "demain"])
def test_malformed_dates_are_invalid_format_on_their_field(bad):
    assert errors_of(bad, "2019-05-31") == [("from", "invalid_format")]
    assert errors_of("2019-01-01", bad) == [("to", "invalid_format")]
    assert errors_of(bad, bad) == [("from", "invalid_format"), ("to", "invalid_format")]
