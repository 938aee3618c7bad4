"""The avis d'échéance (rent notice) PDF, laid out like the office's paper notice (contract
section 5): header, N° intitulé, N° contrat, N° tiers, period, the interlocuteur with its
address and phone, the rental's address, the lines with their labels exactly as imported and
in file order (an aid is one line of its own, never merged), the total, the due date, the
account situation ("Solde au …" and "Net à payer"), and the talon (payment slip) with the
payee, its postal address, IBAN and BIC, the reference to quote and the ways to pay.

Drawn on the office's sheet (:mod:`oph.documents.sheet`). A notice with more lines than a page
holds continues on the next page (the table's header repeated); the account situation and the
talon always come last, the talon at the bottom of the last page.

What is the same on every notice of the office (the first page's frames, labels and the
interlocuteur; the talon's payee, bank details and fixed texts) is two templates drawn once
per container (:func:`first_page_template`, :func:`talon_template`); each notice draws only
its own values over them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from oph.documents.model import Document, net_to_pay
from oph.documents.sheet import FOOTER_TOP, GREY, Addressee, Sheet, Template, address_window, record, references
from oph.platform.french import date_fr, euros, period_label
from oph.platform.office import Office

TALON_TOP = 212.0  # where the talon's cut line is, on the last page
LINE_STEP = 5.5
SITUATION_HEIGHT = 46.0  # the account situation and the line under it, at most
REFERENCES_TOP = 44.0
KIND = "AVIS D'ÉCHÉANCE"
# The ways to pay printed on the talon; "{reference}" is the notice's, "{office}" the payee.
WAYS_TO_PAY = (
    "par carte bancaire, sans frais, dans l'application « Mon espace locataire » ;",
    "par virement à l'IBAN ci-dessus, en indiquant la référence {reference} ;",
    "par prélèvement automatique, à mettre en place dans l'application ;",
    "par chèque à l'ordre de l'{office}, envoyé avec ce talon à l'adresse ci-dessus.",
)


@dataclass(frozen=True)
class AccountSituation:
    """The notice's account situation: the balance printed on it and the net à payer
    (:func:`oph.documents.model.net_to_pay`, the one rule), with what is left of a credit."""

    balance_cents: int | None
    balance_date: str | None
    includes_notice: bool  # a balance dated on or after the issue date already includes the notice
    net_cents: int
    credit_left_cents: int


def account_situation(document: Document) -> AccountSituation:
    extra = document.extra or {}
    balance, balance_date = extra.get("balance_cents"), extra.get("balance_date")
    net = net_to_pay(document)
    if balance is None or not balance_date:
        return AccountSituation(None, None, False, net, 0)
    includes = str(balance_date) >= document.issued_on
    owed = int(balance) + (0 if includes else int(document.amount_due_cents or 0))
    return AccountSituation(int(balance), str(balance_date), includes, net, max(0, -owed))


def payment_reference(document: Document) -> str:
    """The reference to quote on a transfer or a cheque: ``<tenant number>-<period>``."""
    return f"{document.tenant_number}-{document.period}"


def render_notice(document: Document, tenancy: Mapping[str, Any] | Any, holders: Iterable[Any]) -> bytes:
    """The PDF of one avis d'échéance (``document`` is its index item, lines in ``extra``)."""
    addressee = Addressee.of(tenancy, holders)
    period = str(document.period)
    sheet = Sheet(f"Avis d'échéance {period_label(period)}")
    sheet.replay(first_page_template(sheet.office))
    sheet.letterhead(
        KIND,
        [f"Période : {period_label(period, capitalize=True)}", f"Date d'émission : {date_fr(document.issued_on)}"],
        frame=False,
    )
    bottom = references(sheet, document.tenant_number, addressee, top=REFERENCES_TOP, frame=False)
    address_window(sheet, addressee, top=50, frame=False)
    sheet.text(55, bottom + 6, addressee.rental_address, size=9)
    y = _notice_lines(sheet, document, top=bottom + 10)
    if y + SITUATION_HEIGHT > TALON_TOP:  # the situation does not fit above the talon: both on a new page
        sheet.new_page()
        sheet.running_head("Avis d'échéance", period_label(period, capitalize=True))
        y = 24.0
    situation = account_situation(document)
    _account_situation(sheet, document, situation, y + 6)
    _slip(sheet, document, addressee, situation)
    return sheet.finish()


def _first_page_frame(sheet: Sheet) -> None:
    sheet.letterhead(KIND, [])
    bottom = references(sheet, "", None, top=REFERENCES_TOP)
    address_window(sheet, None, top=50)
    sheet.text(15, bottom + 6, "Adresse de la location :", size=9, bold=True)


@functools.lru_cache(maxsize=8)
def first_page_template(office: Office) -> Template:
    """The first page's letterhead, references box (labels, interlocuteur), envelope window
    and "Adresse de la location :", as every notice of the office has them."""
    return record(office, _first_page_frame)


def _table_head(sheet: Sheet, document: Document, top: float) -> None:
    sheet.box(15, top, 180, 8, fill=GREY)
    title = f"DÉTAIL DE L'ÉCHÉANCE — {period_label(str(document.period)).upper()}"
    sheet.text(18, top + 5.5, title, size=9, bold=True)
    sheet.right(192, top + 5.5, "Montant", size=9, bold=True)


def _notice_lines(sheet: Sheet, document: Document, top: float) -> float:
    """Every line with its label as imported, in file order; then the total and the due date.
    Returns where the table ends."""
    _table_head(sheet, document, top)
    y, table_top = top + 13, top
    for line in list((document.extra or {}).get("lines") or []):
        if y > FOOTER_TOP - 8:  # continue on the next page
            sheet.box(15, table_top, 180, y - 4 - table_top)
            sheet.new_page()
            sheet.running_head("Avis d'échéance", period_label(str(document.period), capitalize=True))
            table_top = 24.0
            _table_head(sheet, document, table_top)
            y = table_top + 13
        for index, part in enumerate(sheet.wrap(str(line.get("label", "")), 140, size=9)[:2]):
            sheet.text(18, y + index * 4, part, size=9)
        sheet.right(192, y, euros(int(line.get("amount_cents", 0))), size=9)
        y += LINE_STEP
    sheet.line(15, y - 2, 195, y - 2)
    sheet.text(18, y + 4, "TOTAL DE L'ÉCHÉANCE", size=10, bold=True)
    sheet.right(192, y + 4, euros(int(document.amount_due_cents or 0)), size=10, bold=True)
    sheet.text(18, y + 10, "Date limite de paiement :", size=9)
    sheet.right(192, y + 10, date_fr(str(document.due_date)), size=9, bold=True)
    sheet.box(15, table_top, 180, y + 14 - table_top)
    return y + 14


def _account_situation(sheet: Sheet, document: Document, situation: AccountSituation, y: float) -> None:
    """The balance of the office's records at its date, then the net à payer."""
    sheet.box(15, y, 180, 8, fill=GREY)
    sheet.text(18, y + 5.5, "SITUATION DE VOTRE COMPTE", size=9, bold=True)
    row = y + 13
    balance = situation.balance_cents
    if balance is None:
        sheet.text(18, row, "Solde : non communiqué à la date de cet avis", size=9)
    else:
        sheet.text(18, row, f"Solde au {date_fr(str(situation.balance_date))}", size=9)
        state = "crédit en votre faveur" if balance < 0 else "somme due" if balance > 0 else "compte à jour"
        if situation.includes_notice:
            state += ", présent avis compris"
        sheet.text(75, row, f"({state})", size=8)
        sheet.right(192, row, euros(abs(balance)), size=9)
    if balance is None or not situation.includes_notice:
        row += 5.5
        sheet.text(18, row, f"Avis d'échéance de {period_label(str(document.period))}", size=9)
        sheet.right(192, row, euros(int(document.amount_due_cents or 0)), size=9)
    sheet.line(15, row + 2.5, 195, row + 2.5)
    row += 8
    sheet.text(18, row, "Net à payer", size=12, bold=True)
    sheet.text(75, row, f"avant le {date_fr(str(document.due_date))}", size=9)
    sheet.right(192, row, euros(situation.net_cents), size=12, bold=True)
    if situation.credit_left_cents:
        row += 5
        sheet.text(18, row, f"Crédit restant en votre faveur : {euros(situation.credit_left_cents)}", size=8)
    sheet.box(15, y, 180, row + 4 - y)
    text = (
        f"En cas de difficulté de paiement, contactez sans attendre votre interlocuteur au "
        f"{sheet.office.phone} : des solutions existent."
    )
    sheet.paragraph(15, row + 9, text, 180, size=8)


REFERENCE_LABEL = "Référence :"


def _payee(office: Office, reference: str) -> tuple[tuple[str, str], ...]:
    return (
        ("Bénéficiaire :", office.name),
        ("", office.address_line1),
        ("", office.town),
        ("IBAN :", office.iban),
        ("BIC :", office.bic),
        (REFERENCE_LABEL, reference),
    )


def _talon_frame(sheet: Sheet) -> None:
    """The talon without the notice's values: cut line, title, payee and bank details, the
    box, the ways to pay that quote no reference."""
    office, top = sheet.office, TALON_TOP
    sheet.line(10, top, 200, top, dash=True)
    sheet.text(15, top + 7, "TALON À JOINDRE À VOTRE RÈGLEMENT", size=9, bold=True)
    for index, (label, value) in enumerate(_payee(office, "")):
        y = top + 13 + index * 5
        sheet.text(15, y, label, size=8.5)
        if label != REFERENCE_LABEL:
            sheet.text(36, y, value, size=8.5, bold=label == "Bénéficiaire :")
    sheet.box(125, top + 9, 70, 32)
    sheet.text(15, top + 47, "Pour payer :", size=8.5, bold=True)
    for index, way in enumerate(WAYS_TO_PAY):
        if "{reference}" not in way:
            sheet.text(18, top + 51.5 + index * 4.3, f"• {way.format(office=office.name)}", size=8)


@functools.lru_cache(maxsize=8)
def talon_template(office: Office) -> Template:
    """The talon's parts that every notice of the office shares, at the bottom of the page."""
    return record(office, _talon_frame)


def _slip(sheet: Sheet, document: Document, addressee: Addressee, situation: AccountSituation) -> None:
    """The talon (tear-off payment slip) at the bottom of the last page: its template, then
    the reference, the tenant's box and the way to pay that quotes the reference."""
    sheet.replay(talon_template(sheet.office))
    top, reference = TALON_TOP, payment_reference(document)
    for index, (label, value) in enumerate(_payee(sheet.office, reference)):
        if label == REFERENCE_LABEL:
            sheet.text(36, top + 13 + index * 5, value, size=8.5, bold=True)
    tenant = (
        f"N° intitulé : {document.tenant_number}",
        (addressee.names or [""])[0],
        f"Période : {period_label(str(document.period), capitalize=True)}",
        f"Date limite : {date_fr(str(document.due_date))}",
    )
    for index, value in enumerate(tenant):
        sheet.text(128, top + 14 + index * 5, value, size=8.5)
    sheet.text(128, top + 37, f"Net à payer : {euros(situation.net_cents)}", size=9.5, bold=True)
    for index, way in enumerate(WAYS_TO_PAY):
        if "{reference}" in way:
            sheet.text(18, top + 51.5 + index * 4.3, f"• {way.format(reference=reference)}", size=8)
