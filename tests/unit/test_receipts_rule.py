"""The contract's "What is paid" rule (section 5), on plain values."""

from __future__ import annotations

from oph.documents.model import NOTICE, Document
from oph.payments.model import Payment
from oph.payments.settlement import PAID, PARTIAL, UNPAID, settle
from oph.platform.clock import paris_date


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
    return Payment(payment_id=f"p{amount}{when}", amount_cents=amount, status=status, paid_at=when)


APRIL = notice("2019-04", "2019-04-24", 20000)
MAY = notice("2019-05", "2019-05-24", 22000)
JUNE = notice("2019-06", "2019-06-24", 22000)


def states(result):
    return {period: (s.state, s.paid_cents) for period, s in result.items()}


def test_nothing_paid():
    assert states(settle([MAY], 61068, "2019-05-23", [])) == {"2019-05": (UNPAID, 0)}


def test_balance_zero_or_credit_on_or_after_issue_pays_the_notices_it_covers():
    result = settle([APRIL, MAY, JUNE], 0, "2019-05-24", [])
    assert states(result) == {"2019-04": (PAID, 20000), "2019-05": (PAID, 22000), "2019-06": (UNPAID, 0)}
    assert result["2019-05"].by_balance
    assert states(settle([MAY], -500, "2019-06-01", []))["2019-05"] == (PAID, 22000)


def test_balance_dated_before_issue_does_not_pay_the_notice():
    assert states(settle([MAY], 0, "2019-05-23", []))["2019-05"] == (UNPAID, 0)


def test_positive_balance_leaves_notices_unpaid_until_payments_are_allocated_oldest_first():
    payments = [paid(30000, "2019-06-02T10:00:00Z")]
    assert states(settle([APRIL, MAY], 15000, "2019-06-01", payments)) == {
        "2019-04": (PAID, 20000),
        "2019-05": (PARTIAL, 10000),
    }


def test_partial_payments_spread_over_periods():
    payments = [
        paid(5000, "2019-06-01T08:00:00Z"),
        paid(20000, "2019-06-05T08:00:00Z"),
        paid(19000, "2019-07-01T08:00:00Z"),
        paid(100000, "2019-07-02T08:00:00Z", status="refused"),
        paid(100000, "2019-07-02T08:00:00Z", status="created"),
    ]
    # 44 000 paid in all: April (20 000) in full, May (22 000) in full, June gets the last 2 000.
    assert states(settle([JUNE, MAY, APRIL], None, None, payments)) == {
        "2019-04": (PAID, 20000),
        "2019-05": (PAID, 22000),
        "2019-06": (PARTIAL, 2000),
    }
    assert states(settle([JUNE, MAY, APRIL], None, None, payments[:2]))["2019-05"] == (PARTIAL, 5000)


def test_payments_on_or_before_the_balance_date_are_already_in_the_balance():
    payments = [paid(22000, "2019-05-23T09:00:00Z"), paid(1000, "2019-05-24T09:00:00Z")]
    assert states(settle([MAY], 61068, "2019-05-23", payments)) == {"2019-05": (PARTIAL, 1000)}


def test_payment_dates_are_paris_dates():
    # 23:30 UTC on the 23rd is already the 24th in Paris: after a balance dated the 23rd.
    assert paris_date("2019-05-23T23:30:00Z") == "2019-05-24"
    assert states(settle([MAY], 61068, "2019-05-23", [paid(22000, "2019-05-23T23:30:00Z")]))["2019-05"] == (PAID, 22000)


def test_aid_lines_lower_the_amount_due_and_a_fully_aided_notice_is_paid():
    aided = notice("2019-05", "2019-05-24", 22000 - 15000)  # APL of 150,00 € deducted
    assert states(settle([aided], None, None, [paid(7000, "2019-06-01T08:00:00Z")]))["2019-05"] == (PAID, 7000)
    covered = notice("2019-06", "2019-06-24", 0)
    assert states(settle([covered], None, None, []))["2019-06"] == (PAID, 0)
