"""Properties of the position and its settlement (hypothesis), for any sequence of notices,
movements and online payments, with or without an imported balance:

1. What the settlement says is still owed — the older debt plus each notice's unpaid part
   (``due_cents − paid_cents``) — equals the net à payer ``amount_to_pay_cents``, which is
   ``max(0, balance_cents + Σ notices issued after balance_date − pending_cents)``.
2. No notice is fully paid while an older one (by issue date) is not, nor while older debt
   is still owed; a partially paid notice is followed only by unpaid ones.
3. Each notice's paid part lies between 0 and what it asks; its state says which.
4. The account's entries add up to ``balance_cents − pending_cents`` (the statement's closing
   balance over everything); a statement's closing balance is its opening plus its lines.
5. A payment is never both pending and reconciled; only succeeded payments are pending.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from oph.documents.model import NOTICE, Document
from oph.payments.model import Payment, TenancySnapshot
from oph.payments.position import position
from oph.payments.settlement import PAID, PARTIAL, UNPAID, is_after, oldest_first
from oph.payments.statement import statement_of
from oph.tenancy.model import Movement, Tenancy

START = date(2019, 1, 1)
DAYS = 150


def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


amounts = st.integers(min_value=-40000, max_value=120000)


@st.composite
def snapshots(draw: st.DrawFn) -> TenancySnapshot:
    periods = draw(st.lists(st.integers(0, 30), unique=True, max_size=6))
    notices = [
        Document(
            doc_id=f"n{p}",
            tenant_number="1",
            type=NOTICE,
            title="",
            issued_on=day(draw(st.integers(0, DAYS))),
            s3_key="",
            filename="",
            period=f"{2019 + p // 12}-{p % 12 + 1:02d}",
            due_date=day(DAYS),
            amount_due_cents=draw(st.one_of(st.integers(0, 60000), st.integers(-5000, 5000))),
        )
        for p in periods
    ]
    payments = [
        Payment(
            payment_id=f"p{i}",
            amount_cents=draw(st.integers(100, 90000)),
            status=draw(st.sampled_from(["succeeded", "succeeded", "refused", "created", "expired"])),
            paid_at=f"{day(draw(st.integers(0, DAYS)))}T{draw(st.integers(0, 23)):02d}:30:00Z",
        )
        for i in range(draw(st.integers(0, 6)))
    ]
    references = st.one_of(
        st.sampled_from([p.payment_id for p in payments] or ["M-0"]), st.from_regex(r"M-[0-9]{1,3}", fullmatch=True)
    )
    movements = {
        ref: Movement("1", day(draw(st.integers(0, DAYS))), "Mouvement", draw(amounts), ref)
        for ref in draw(st.lists(references, max_size=8))
    }
    tenancy = None
    if draw(st.booleans()):
        tenancy = Tenancy("1", balance_cents=draw(amounts), balance_date=day(draw(st.integers(0, DAYS))))
    return TenancySnapshot(
        "1", tenancy, documents={n.doc_id: n for n in notices}, payments=payments, movements=list(movements.values())
    )


@settings(max_examples=200, deadline=None)
@given(snapshots())
def test_what_settlement_says_is_owed_is_the_net_a_payer(snapshot):
    state = position(snapshot, today=day(DAYS))
    later = sum(int(n.amount_due_cents or 0) for n in snapshot.notices if is_after(n, state.balance_date))
    assert state.amount_to_pay_cents == max(0, state.balance_cents + later - state.pending_cents)
    owed = state.older_debt_cents + sum(s.due_cents - s.paid_cents for s in state.settlements.values())
    assert owed == state.amount_to_pay_cents


@settings(max_examples=200, deadline=None)
@given(snapshots())
def test_no_notice_is_paid_while_older_debt_is_owed(snapshot):
    state = position(snapshot, today=day(DAYS))
    ordered = [state.settlements[str(n.period)] for n in oldest_first(snapshot.notices)]
    for index, settlement in enumerate(ordered):
        assert 0 <= settlement.paid_cents <= settlement.due_cents
        if settlement.due_cents:
            expected = (
                PAID
                if settlement.paid_cents == settlement.due_cents
                else UNPAID
                if not settlement.paid_cents
                else PARTIAL
            )
            assert settlement.state == expected
        if settlement.state == PAID:
            assert state.older_debt_cents == 0
            assert all(older.state == PAID for older in ordered[:index])
        if settlement.state == PARTIAL:
            assert all(newer.paid_cents == 0 for newer in ordered[index + 1 :])


@settings(max_examples=150, deadline=None)
@given(snapshots(), st.integers(0, DAYS), st.integers(0, DAYS))
def test_entries_add_up_to_the_balance_less_what_is_pending(snapshot, a, b):
    state = position(snapshot, today=day(DAYS))
    assert sum(e.amount_cents for e in state.entries) == state.balance_cents - state.pending_cents
    assert [e.date for e in state.entries] == sorted(e.date for e in state.entries)
    assert not {p.payment_id for p in state.pending} & state.reconciled
    assert all(p.status == "succeeded" for p in state.pending)
    start, end = day(min(a, b)), day(max(a, b))
    result = statement_of(state, start, end)
    assert result.closing_balance_cents == result.opening_balance_cents + sum(i.amount_cents for i in result.items)
    everything = statement_of(state, day(-1), day(DAYS + 1))
    assert everything.opening_balance_cents == 0
    assert everything.closing_balance_cents == state.balance_cents - state.pending_cents
