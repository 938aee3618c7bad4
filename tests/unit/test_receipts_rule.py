"""The contract's "What is paid" rule (section 5): oldest debt first, on plain values, through
the position (:func:`oph.payments.position.position`), the one place it is read."""

from __future__ import annotations

from oph.documents.model import NOTICE, Document
from oph.payments.model import Payment, TenancySnapshot
from oph.payments.position import position
from oph.payments.settlement import PAID, PARTIAL, UNPAID
from oph.platform.clock import paris_date
from oph.tenancy.model import Tenancy


def notice(period: str, issued_on: str, due_cents: int) -> Document:
    return Document(
        doc_id=f"n-{period}",
        tenant_number="42",
        type=NOTICE,
        title="",
        issued_on=issued_on,
        s3_key="tenants/42/x.pdf",
        filename="",
        period=period,
        due_date=issued_on,
        amount_due_cents=due_cents,
    )


def paid(amount: int, when: str, status: str = "succeeded") -> Payment:
    return Payment(
        payment_id=f"p{amount}{when[:10].replace('-', '')}", amount_cents=amount, status=status, paid_at=when
    )


def settle(notices, balance_cents, balance_date, payments):
    tenancy = Tenancy("42", balance_cents=balance_cents, balance_date=balance_date)
    snapshot = TenancySnapshot("42", tenancy, documents={n.doc_id: n for n in notices}, payments=list(payments))
    return position(snapshot, today="2019-07-01")


def states(state):
    return {period: (s.state, s.paid_cents) for period, s in sorted(state.settlements.items())}


MARCH = notice("2019-03", "2019-03-24", 22000)
APRIL = notice("2019-04", "2019-04-24", 20000)
MAY = notice("2019-05", "2019-05-24", 22000)
JUNE = notice("2019-06", "2019-06-24", 22000)


def test_the_contracts_example_older_debt_is_paid_before_may():
    # 610,68 € owed at 23/05/2019, the 220,00 € May notice issued on the 24th.
    state = settle([MAY], 61068, "2019-05-23", [])
    assert states(state) == {"2019-05": (UNPAID, 0)}
    assert (state.older_debt_cents, state.amount_to_pay_cents) == (61068, 83068)

    state = settle([MAY], 61068, "2019-05-23", [paid(22000, "2019-05-28T10:00:00Z")])
    assert states(state) == {"2019-05": (UNPAID, 0)}  # the 220,00 € paid older debt
    assert (state.older_debt_cents, state.amount_to_pay_cents) == (39068, 61068)

    state = settle(
        [MAY], 61068, "2019-05-23", [paid(22000, "2019-05-28T10:00:00Z"), paid(50000, "2019-06-02T10:00:00Z")]
    )
    assert states(state) == {"2019-05": (PARTIAL, 10932)}
    assert (state.older_debt_cents, state.amount_to_pay_cents) == (0, 11068)

    state = settle(
        [MAY], 61068, "2019-05-23", [paid(22000, "2019-05-28T10:00:00Z"), paid(61068, "2019-06-02T10:00:00Z")]
    )
    assert states(state) == {"2019-05": (PAID, 22000)}  # 830,68 € in all
    assert (state.older_debt_cents, state.amount_to_pay_cents) == (0, 0)


def test_a_positive_balance_is_owed_by_the_most_recent_notices_on_or_before_its_date():
    # 300,00 € owed on 2019-05-24: May (issued that day) in full, then 80,00 € of April; March settled.
    state = settle([MARCH, APRIL, MAY], 30000, "2019-05-24", [])
    assert states(state) == {"2019-03": (PAID, 22000), "2019-04": (PARTIAL, 12000), "2019-05": (UNPAID, 0)}
    assert state.older_debt_cents == 0 and state.amount_to_pay_cents == 30000
    # a payment settles April's rest first, then May
    state = settle([MARCH, APRIL, MAY], 30000, "2019-05-24", [paid(10000, "2019-05-26T08:00:00Z")])
    assert states(state) == {"2019-03": (PAID, 22000), "2019-04": (PAID, 20000), "2019-05": (PARTIAL, 2000)}


def test_what_the_known_notices_do_not_explain_is_older_debt_paid_first():
    state = settle([APRIL, MAY], 50000, "2019-05-24", [paid(5000, "2019-06-01T08:00:00Z")])
    assert state.older_debt_cents == 8000 - 5000
    assert states(state) == {"2019-04": (UNPAID, 0), "2019-05": (UNPAID, 0)}
    state = settle([APRIL, MAY], 50000, "2019-05-24", [paid(9000, "2019-06-01T08:00:00Z")])
    assert state.older_debt_cents == 0
    assert states(state) == {"2019-04": (PARTIAL, 1000), "2019-05": (UNPAID, 0)}


def test_a_zero_balance_or_a_credit_settles_the_notices_it_covers_and_a_credit_pays_the_next():
    assert states(settle([APRIL, MAY, JUNE], 0, "2019-05-24", [])) == {
        "2019-04": (PAID, 20000),
        "2019-05": (PAID, 22000),
        "2019-06": (UNPAID, 0),
    }
    state = settle([APRIL, MAY, JUNE], -5000, "2019-05-24", [])
    assert states(state)["2019-06"] == (PARTIAL, 5000)
    assert state.amount_to_pay_cents == 17000


def test_a_balance_dated_before_the_issue_date_does_not_include_the_notice():
    assert states(settle([MAY], 0, "2019-05-23", [])) == {"2019-05": (UNPAID, 0)}
    assert states(settle([MAY], 0, "2019-05-24", [])) == {"2019-05": (PAID, 22000)}  # issued that day: in it


def test_payments_settle_oldest_first_across_periods():
    payments = [
        paid(5000, "2019-06-01T08:00:00Z"),
        paid(20000, "2019-06-05T08:00:00Z"),
        paid(19000, "2019-07-01T08:00:00Z"),
        paid(100000, "2019-07-02T08:00:00Z", status="refused"),
        paid(100001, "2019-07-02T08:00:00Z", status="created"),
    ]
    # No balance known: every notice and every success counts. 44 000 paid in all.
    assert states(settle([JUNE, MAY, APRIL], None, None, payments)) == {
        "2019-04": (PAID, 20000),
        "2019-05": (PAID, 22000),
        "2019-06": (PARTIAL, 2000),
    }
    assert states(settle([JUNE, MAY, APRIL], None, None, payments[:2]))["2019-05"] == (PARTIAL, 5000)


def test_payments_on_or_before_the_imported_balance_date_are_already_in_it():
    payments = [paid(22000, "2019-05-23T09:00:00Z"), paid(1000, "2019-05-24T09:00:00Z")]
    state = settle([MAY], 0, "2019-05-23", payments)
    assert state.pending_cents == 1000
    assert states(state) == {"2019-05": (PARTIAL, 1000)}


def test_payment_dates_are_paris_dates():
    # 23:30 UTC on the 23rd is already the 24th in Paris: after a balance dated the 23rd.
    assert paris_date("2019-05-23T23:30:00Z") == "2019-05-24"
    state = settle([MAY], 0, "2019-05-23", [paid(22000, "2019-05-23T23:30:00Z")])
    assert states(state)["2019-05"] == (PAID, 22000)


def test_aid_lowers_the_amount_due_and_a_notice_asking_nothing_waits_for_the_older_debt():
    aided = notice("2019-05", "2019-05-24", 22000 - 15000)  # APL of 150,00 € deducted
    assert states(settle([aided], None, None, [paid(7000, "2019-06-01T08:00:00Z")]))["2019-05"] == (PAID, 7000)
    covered = notice("2019-06", "2019-06-24", 0)
    assert states(settle([covered], None, None, []))["2019-06"] == (PAID, 0)
    # with May still owed, June (nothing to pay) is not paid: its quittance would cover May
    assert states(settle([aided, covered], None, None, []))["2019-06"] == (UNPAID, 0)
    assert states(settle([aided, covered], 100, "2019-05-01", [paid(7000, "2019-06-01T08:00:00Z")]))["2019-06"] == (
        UNPAID,
        0,
    )
    assert states(settle([aided, covered], None, None, [paid(7000, "2019-06-01T08:00:00Z")]))["2019-06"] == (PAID, 0)


def test_a_credit_note_after_the_balance_date_is_a_credit():
    credit_note = notice("2019-06", "2019-06-24", -3000)
    state = settle([MAY, credit_note], 0, "2019-05-23", [])
    assert states(state) == {"2019-05": (PARTIAL, 3000), "2019-06": (UNPAID, 0)}
    assert state.amount_to_pay_cents == 19000
    # before the balance date it is already in the balance: it owes nothing and credits nothing
    state = settle([MAY, credit_note], 0, "2019-06-30", [])
    assert states(state) == {"2019-05": (PAID, 22000), "2019-06": (PAID, 0)}
    assert state.amount_to_pay_cents == 0
