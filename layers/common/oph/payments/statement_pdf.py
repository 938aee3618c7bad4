"""The relevé de compte PDF (``POST /v1/documents/statements``, contract section 8): what a
tenant hands a social worker or the CAF.

The office's header, the references box (N° intitulé, N° contrat, N° tiers, the interlocuteur),
the holder(s) and the rental's address, the period, a summary (opening balance, total debits
and credits, closing balance, net à payer), then the table: the opening balance, every movement
with its running balance, the closing balance; and the day it was produced (Paris). Debits are
what the tenant owes (échéances, regularisations, fees), credits what settled it (payments,
housing aid); a negative balance is a credit in the tenant's favour, and the summary says so in
words. An online payment not yet in the office's records (``source`` ``online``) is marked with
an asterisk and explained under the table.

A long statement continues over several pages, the table's header repeated on each, with
"Page n/N" in the footer: the pages are laid out before drawing so that N is known. A label
longer than its column wraps (up to three lines: the office's labels are short).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from oph.documents.sheet import FOOTER_TOP, GREY, Addressee, Sheet, address_window, references
from oph.platform.french import date_fr, date_long_fr, euros

ROW = 5.5
FIRST_TABLE_TOP = 149.0  # under the summary, on the first page
NEXT_TABLE_TOP = 26.0  # under the running head, on the following pages
TABLE_BOTTOM = FOOTER_TOP - 6  # the last row's baseline is above this
ONLINE = "online"
LABEL_WIDTH = 78.0  # mm, between the date and the debit column
LABEL_LINES = 3  # a longer label is cut after its third line
LABEL_STEP = 4.0  # mm between the lines of one label


class StatementLineLike(Protocol):
    @property
    def date(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def amount_cents(self) -> int: ...
    @property
    def balance_cents(self) -> int: ...
    @property
    def source(self) -> str: ...


class StatementLike(Protocol):
    """What the PDF reads of :class:`oph.payments.statement.Statement`."""

    @property
    def from_date(self) -> str: ...
    @property
    def to_date(self) -> str: ...
    @property
    def opening_balance_cents(self) -> int: ...
    @property
    def items(self) -> Sequence[StatementLineLike]: ...
    @property
    def closing_balance_cents(self) -> int: ...
    @property
    def amount_to_pay_cents(self) -> int: ...


@dataclass(frozen=True)
class Row:
    """One row of the table: a balance row (opening, closing) has no amount."""

    day: str
    label: str
    amount_cents: int | None
    balance_cents: int
    bold: bool = False


def day_before(iso_day: str) -> str:
    return (date.fromisoformat(iso_day) - timedelta(days=1)).isoformat()


def balance_words(cents: int) -> str:
    """ "610,68 € (somme due)", "9,32 € (crédit en votre faveur)", "0,00 € (compte à jour)"."""
    if cents > 0:
        return f"{euros(cents)} (somme due)"
    if cents < 0:
        return f"{euros(-cents)} (crédit en votre faveur)"
    return f"{euros(0)} (compte à jour)"


def table_rows(statement: StatementLike) -> list[Row]:
    """The opening balance, every line oldest first, the closing balance."""
    opening_day = day_before(statement.from_date)
    rows = [Row(opening_day, f"Solde au {date_fr(opening_day)}", None, statement.opening_balance_cents, True)]
    for line in statement.items:
        label = f"{line.label} *" if line.source == ONLINE else line.label
        rows.append(Row(line.date, label, line.amount_cents, line.balance_cents))
    closing = Row(statement.to_date, f"Solde au {date_fr(statement.to_date)}", None, statement.closing_balance_cents)
    rows.append(Row(closing.day, closing.label, None, closing.balance_cents, True))
    return rows


def paginate(heights: Sequence[float], tail_height: float) -> list[list[int]]:
    """The rows (their indexes) each page holds, given each row's height; what comes after
    the table (``tail_height``) fits on the last page (an extra page holds it otherwise)."""
    pages: list[list[int]] = [[]]
    y = FIRST_TABLE_TOP + 13
    for index, height in enumerate(heights):
        if y + height - ROW > TABLE_BOTTOM and pages[-1]:
            pages.append([])
            y = NEXT_TABLE_TOP + 13
        pages[-1].append(index)
        y += height
    if y - 3 + 6 + tail_height > FOOTER_TOP - 2:
        pages.append([])  # the notes on a page of their own
    return pages


def render_statement(
    statement: StatementLike,
    tenancy: Mapping[str, Any] | Any,
    holders: Iterable[Any],
    *,
    tenant_number: str,
    produced_on: str,
) -> bytes:
    """The PDF of the statement, produced on the Paris day ``produced_on``."""
    addressee = Addressee.of(tenancy or {}, holders)
    rows = table_rows(statement)
    period = f"du {date_fr(statement.from_date)} au {date_fr(statement.to_date)}"
    sheet = Sheet(f"Relevé de compte {period}")
    labels = [sheet.wrap(row.label, LABEL_WIDTH, size=8.5, bold=row.bold)[:LABEL_LINES] for row in rows]
    notes = [sheet.wrap(note, 180, size=8) for note in _notes(statement, rows)]
    tail_height = sum(len(note) * 4 + 0.5 for note in notes) + 10
    pages = paginate([ROW + (len(label) - 1) * LABEL_STEP for label in labels], tail_height)
    sheet.total_pages = len(pages)
    sheet.letterhead("RELEVÉ DE COMPTE", [period[0].upper() + period[1:], f"Édité le {date_fr(produced_on)}"])
    bottom = references(sheet, tenant_number, addressee, top=44)
    address_window(sheet, addressee, top=50)
    _parties(sheet, addressee, statement, bottom + 7)
    _summary(sheet, statement, bottom + 25)
    y = FIRST_TABLE_TOP
    for index, members in enumerate(pages):
        if index:
            sheet.new_page()
            sheet.running_head("Relevé de compte", period)
        top = FIRST_TABLE_TOP if index == 0 else NEXT_TABLE_TOP
        y = _table(sheet, [(rows[i], labels[i]) for i in members], top) if members else top
    _tail(sheet, notes, produced_on, y + 6)
    return sheet.finish()


def _parties(sheet: Sheet, addressee: Addressee, statement: StatementLike, top: float) -> None:
    rows = (
        ("Titulaire(s) :", ", ".join(addressee.names)),
        ("Logement :", addressee.rental_address),
        ("Période :", f"du {date_long_fr(statement.from_date)} au {date_long_fr(statement.to_date)}"),
    )
    for index, (label, value) in enumerate(rows):
        sheet.text(15, top + index * 5.5, label, size=9, bold=True)
        sheet.text(45, top + index * 5.5, value, size=9)


def _summary(sheet: Sheet, statement: StatementLike, top: float) -> None:
    debits = sum(line.amount_cents for line in statement.items if line.amount_cents > 0)
    settled = -sum(line.amount_cents for line in statement.items if line.amount_cents < 0)
    rows = (
        (
            f"Solde au {date_fr(day_before(statement.from_date))} (ouverture)",
            balance_words(statement.opening_balance_cents),
        ),
        ("Total des débits de la période (sommes dues)", euros(debits)),
        ("Total des crédits de la période (règlements et aides)", euros(settled)),
        (f"Solde au {date_fr(statement.to_date)} (clôture)", balance_words(statement.closing_balance_cents)),
    )
    sheet.box(15, top, 180, 33, fill=GREY)
    for index, (label, value) in enumerate(rows):
        y = top + 6 + index * 5.5
        bold = index == len(rows) - 1
        sheet.text(18, y, label, size=9, bold=bold)
        sheet.right(192, y, value, size=9, bold=bold)
    sheet.line(15, top + 25, 195, top + 25, width=0.4)
    sheet.text(18, top + 30, "Net à payer à ce jour", size=10, bold=True)
    sheet.right(192, top + 30, euros(statement.amount_to_pay_cents), size=10, bold=True)


def _table_head(sheet: Sheet, top: float) -> None:
    sheet.box(15, top, 180, 8, fill=GREY)
    for x, title in ((18, "Date"), (40, "Libellé")):
        sheet.text(x, top + 5.5, title, size=9, bold=True)
    for x, title in ((140, "Débit"), (166, "Crédit"), (192, "Solde")):
        sheet.right(x, top + 5.5, title, size=9, bold=True)


def _table(sheet: Sheet, rows: Sequence[tuple[Row, list[str]]], top: float) -> float:
    """One page's part of the table (each row with its label's lines); returns where it ends."""
    _table_head(sheet, top)
    y = top + 13
    for row, label in rows:
        sheet.text(18, y, date_fr(row.day), size=8.5, bold=row.bold)
        for index, part in enumerate(label):
            sheet.text(40, y + index * LABEL_STEP, part, size=8.5, bold=row.bold)
        if row.amount_cents is not None and row.amount_cents > 0:
            sheet.right(140, y, euros(row.amount_cents), size=8.5)
        elif row.amount_cents is not None and row.amount_cents < 0:
            sheet.right(166, y, euros(-row.amount_cents), size=8.5)
        sheet.right(192, y, euros(row.balance_cents), size=8.5, bold=row.bold)
        y += ROW + (len(label) - 1) * LABEL_STEP
    sheet.box(15, top, 180, y - 3 - top)
    return y - 3


def _notes(statement: StatementLike, rows: Sequence[Row]) -> list[str]:
    """What the table's words mean, and why the net à payer may differ from the balance."""
    notes = ["Débit : somme due (échéance, régularisation, frais). Crédit : règlement ou aide versée à l'Office."]
    notes.append("Solde : ce qui reste dû après chaque ligne ; un solde négatif est un crédit en votre faveur.")
    if any(row.label.endswith(" *") for row in rows[1:-1]):
        notes.append(
            "* Paiement en ligne reçu, pas encore enregistré dans la comptabilité de l'Office : il est déjà "
            "déduit du solde."
        )
    if statement.amount_to_pay_cents != max(0, statement.closing_balance_cents):
        notes.append(
            "Net à payer à ce jour : le solde du compte, plus les avis d'échéance émis depuis sa dernière mise à "
            "jour, moins les paiements en ligne qui n'y figurent pas encore."
        )
    return notes


def _tail(sheet: Sheet, notes: Sequence[list[str]], produced_on: str, y: float) -> None:
    """The notes under the table (already wrapped) and the production date."""
    for note in notes:
        for line in note:
            sheet.text(15, y, line, size=8)
            y += 4
        y += 0.5
    sheet.text(15, y + 4, f"Relevé édité le {date_long_fr(produced_on)} (heure de Paris).", size=9)
    sheet.text(15, y + 9, "Pour l'Office, le service Gestion locative", size=8.5)
