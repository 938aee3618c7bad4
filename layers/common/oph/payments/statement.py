"""The relevé de compte (``GET /v1/payments/statement``, contract section 8).

The lines are the position's entries (:func:`oph.payments.position.position`): the office's
movements and the online payments not yet reconciled, oldest first, with the running balance
after each; the opening balance is the sum of the entries before ``from``. A tenancy without
movements has its latest imported balance as one line ("Solde au <date>"); when that date is
before ``from`` it is the opening balance, as any earlier line would be (and before that date
nothing is known: an opening balance of 0).

The range (:func:`statement_range`): ``to`` defaults to today in Paris, ``from`` to the day
after the same date one year earlier (2018-06-01 for a ``to`` of 2019-05-31; for a ``to`` of
29 February, the 28th is that date); both days are included; more than 731 days is
``range_too_long`` on ``from``, ``from`` after ``to`` is ``invalid_format`` on ``from``, a
malformed date is ``invalid_format`` on its own field (an empty one too: a client sends a
date or leaves the parameter out). Validation is here, so that the PDF statement
(``POST /v1/documents/statements``) answers the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from oph.payments.position import Position, position
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.errors import FieldErrors
from oph.platform.validation import is_valid_date

MAX_RANGE_DAYS = 731
DATE_FORMAT_MESSAGE = "La date doit être au format AAAA-MM-JJ (par exemple 2019-05-31)."


@dataclass(frozen=True)
class StatementLine:
    date: str
    label: str
    amount_cents: int
    balance_cents: int  # the running balance after this line
    source: str  # office | online
    reference: str

    def as_api(self) -> dict[str, Any]:
        return {
            "date": self.date,
            "label": self.label,
            "amount_cents": self.amount_cents,
            "balance_cents": self.balance_cents,
            "source": self.source,
            "reference": self.reference,
        }


@dataclass(frozen=True)
class Statement:
    from_date: str
    to_date: str
    opening_balance_cents: int
    items: list[StatementLine]
    closing_balance_cents: int
    amount_to_pay_cents: int

    def as_api(self) -> dict[str, Any]:
        return {
            "from": self.from_date,
            "to": self.to_date,
            "opening_balance_cents": self.opening_balance_cents,
            "items": [line.as_api() for line in self.items],
            "closing_balance_cents": self.closing_balance_cents,
            "amount_to_pay_cents": self.amount_to_pay_cents,
        }


def default_from(to_date: str) -> str:
    """The day after the same date one year earlier (the 28th stands for a 29 February)."""
    day = date.fromisoformat(to_date)
    if day.year == 1:
        return date.min.isoformat()
    earlier = day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)
    return (earlier + timedelta(days=1)).isoformat()


def statement_range(from_date: str | None, to_date: str | None, *, today: str) -> tuple[str, str]:
    """The statement's (from, to), both included; :class:`ValidationFailed` per section 8."""
    problems = FieldErrors()
    for name, value in (("from", from_date), ("to", to_date)):
        if value is not None and not is_valid_date(value):
            problems.add(name, "invalid_format", DATE_FORMAT_MESSAGE)
    problems.raise_if_any()
    end = to_date or today
    start = from_date or default_from(end)
    if start > end:
        problems.add("from", "invalid_format", "La date de début ne peut pas être postérieure à la date de fin.")
    elif (date.fromisoformat(end) - date.fromisoformat(start)).days + 1 > MAX_RANGE_DAYS:
        problems.add("from", "range_too_long")
    problems.raise_if_any()
    return start, end


def statement_of(state: Position, from_date: str, to_date: str) -> Statement:
    """The statement of a range already validated, from the position."""
    opening = sum(e.amount_cents for e in state.entries if e.date < from_date)
    running = opening
    items = []
    for entry in state.entries:
        if from_date <= entry.date <= to_date:
            running += entry.amount_cents
            items.append(
                StatementLine(entry.date, entry.label, entry.amount_cents, running, entry.source, entry.reference)
            )
    return Statement(from_date, to_date, opening, items, running, state.amount_to_pay_cents)


def statement(tenant_number: str, from_date: str | None, to_date: str | None) -> Statement:
    """``GET /v1/payments/statement``: the range checked first, then one read of the
    tenancy's partition."""
    today = clock.paris_today()
    start, end = statement_range(from_date, to_date, today=today)
    snapshot = payment_store().snapshot(tenant_number, for_balance=True)
    return statement_of(position(snapshot, today=today), start, end)
