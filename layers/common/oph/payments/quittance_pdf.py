"""The PDF of a quittance (fully paid period) or reçu (partially paid period).

Rent and charges are shown separately (loi du 6 juillet 1989, art. 21): the rent lines under
"Loyer (hors charges)", the charges lines under "Provisions pour charges", each group with its
total; every line keeps the office's own label as imported ("Loyer Foyer",
"Prov.Divers AppareilsChauffage"). An aid — the APL, the RLS (réduction de loyer de
solidarité) — is a line of its own under the aids, never merged with another (contract
section 5). With several holders the quittance is theirs jointly: "… et leur en donne
quittance".

Drawn on the office's sheet (:mod:`oph.documents.sheet`): its header, the references box with
the interlocuteur, and its footer come from :func:`oph.platform.office.get_office`.
"""

from __future__ import annotations

import calendar
from typing import Any, Protocol

from oph.documents.model import Document
from oph.documents.sheet import FOOTER_TOP, GREY, Addressee, Sheet, address_window, references
from oph.payments.model import TenancySnapshot
from oph.platform.french import date_fr, date_long_fr, euros, period_label

QUITTANCE, RECU = "quittance", "recu"
ROW = 5.5
# The groups of a notice's lines, in the order they are printed: (category, heading, with a total).
GROUPS = (
    ("rent", "Loyer (hors charges)", True),
    ("charges", "Provisions pour charges", True),
    ("other", "Autres sommes", True),
    ("aid", "Aides au logement versées à l'Office, déduites", False),
)


class SettledNotice(Protocol):
    """What the PDF reads of a notice's settlement (:class:`oph.payments.settlement.Settlement`)."""

    @property
    def notice(self) -> Document: ...

    @property
    def due_cents(self) -> int: ...


def period_bounds(period: str) -> tuple[str, str]:
    """``2019-05`` -> (``2019-05-01``, ``2019-05-31``)."""
    year, month = (int(p) for p in period.split("-"))
    last = calendar.monthrange(year, month)[1]
    return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"


def holders_text(names: list[str]) -> str:
    """ "DUPOND Jean", "DUPOND Jean et DUPOND Marie", "A, B et C"."""
    if len(names) <= 1:
        return names[0] if names else "le locataire"
    return f"{', '.join(names[:-1])} et {names[-1]}"


def render_quittance(document: Document, settlement: SettledNotice, snapshot: TenancySnapshot) -> bytes:
    kind = (document.extra or {}).get("kind", QUITTANCE)
    period = str(document.period)
    addressee = Addressee.of(snapshot.tenancy, snapshot.holders)
    heading = "QUITTANCE DE LOYER" if kind == QUITTANCE else "REÇU"
    sheet = Sheet(f"{'Quittance de loyer' if kind == QUITTANCE else 'Reçu'} {period_label(period)}")
    sheet.letterhead(
        heading, [f"Période : {period_label(period, capitalize=True)}", f"Date : {date_fr(document.issued_on)}"]
    )
    bottom = references(sheet, document.tenant_number, addressee, top=44)
    address_window(sheet, addressee, top=50)
    y = _parties(sheet, addressee, period, bottom + 7)
    y = _detail(sheet, document, settlement, kind, y + 6) + 12
    text = _statement(document, settlement, kind, addressee, sheet.office.name)
    if y + 10 + len(sheet.wrap(text, 180, size=9.5)) * 4.75 + 14 > FOOTER_TOP:
        sheet.new_page()
        sheet.running_head(heading.capitalize(), period_label(period, capitalize=True))
        y = 26.0
    y = sheet.paragraph(15, y, text, 180, size=9.5) + 8
    sheet.text(120, y, f"Fait à {sheet.office.city}, le {date_long_fr(document.issued_on)}", size=9.5)
    sheet.text(120, y + 6, "Pour l'Office, le service Gestion locative", size=8.5)
    return sheet.finish()


def _parties(sheet: Sheet, addressee: Addressee, period: str, top: float) -> float:
    start, end = period_bounds(period)
    office = sheet.office
    rows = (
        ("Bailleur :", f"{office.name}, {office.postal_address}"),
        ("Locataire(s) :", ", ".join(addressee.names)),
        ("Logement loué :", addressee.rental_address),
        ("Période :", f"du {date_long_fr(start)} au {date_long_fr(end)}"),
    )
    for index, (label, value) in enumerate(rows):
        sheet.text(15, top + index * 5.5, label, size=9, bold=True)
        sheet.text(50, top + index * 5.5, value, size=8.5 if index == 0 else 9)
    return top + 3 * 5.5


def _groups(notice: Document) -> list[tuple[str, bool, list[dict[str, Any]]]]:
    """The notice's lines by group, in file order within each group."""
    lines = list((notice.extra or {}).get("lines") or [])
    known = {category for category, _, _ in GROUPS}
    found = []
    for category, heading, totalled in GROUPS:
        members = [
            line
            for line in lines
            if line.get("category") == category or (category == "other" and line.get("category") not in known)
        ]
        if members:
            found.append((heading, totalled, members))
    return found


class _Table:
    """The detail table, continued on a new page when it reaches the footer."""

    def __init__(self, sheet: Sheet, document: Document, heading: str, top: float) -> None:
        self.sheet, self.document, self.heading = sheet, document, heading
        self.top = top
        self._head()
        self.y = top + 13

    def _head(self) -> None:
        self.sheet.box(15, self.top, 180, 8, fill=GREY)
        title = f"DÉTAIL — {period_label(str(self.document.period)).upper()}"
        self.sheet.text(18, self.top + 5.5, title, size=9, bold=True)
        self.sheet.right(192, self.top + 5.5, "Montant", size=9, bold=True)

    def row(self, label: str, cents: int | None, *, indent: bool = False, bold: bool = False) -> None:
        if self.y > FOOTER_TOP - 10:
            self.close()
            self.sheet.new_page()
            self.sheet.running_head(self.heading, period_label(str(self.document.period), capitalize=True))
            self.top = 26.0
            self._head()
            self.y = self.top + 13
        size = 8.5 if indent else 9
        self.sheet.text(24 if indent else 18, self.y, label, size=size, bold=bold)
        if cents is not None:
            self.sheet.right(192, self.y, euros(cents), size=size, bold=bold)
        self.y += ROW

    def rule(self) -> None:
        self.sheet.line(15, self.y - 2, 195, self.y - 2)
        self.y += 3

    def close(self) -> None:
        self.sheet.box(15, self.top, 180, self.y - self.top)


def _detail(sheet: Sheet, document: Document, settlement: SettledNotice, kind: str, top: float) -> float:
    """The detail table; returns where it ends."""
    table = _Table(sheet, document, "Quittance de loyer" if kind == QUITTANCE else "Reçu", top)
    for heading, totalled, members in _groups(settlement.notice):
        total = sum(int(line.get("amount_cents", 0)) for line in members)
        table.row(heading, total if totalled else None, bold=True)
        for line in members:
            table.row(str(line.get("label", "")), int(line.get("amount_cents", 0)), indent=True)
    table.rule()
    paid = int(document.amount_cents or 0)
    table.row("Total dû pour la période", settlement.due_cents, bold=True)
    table.row("Montant payé", paid, bold=True)
    if kind == RECU:
        table.row("Reste à payer", settlement.due_cents - paid)
    table.close()
    return table.y


def _statement(document: Document, settlement: SettledNotice, kind: str, addressee: Addressee, office: str) -> str:
    period = str(document.period)
    start, end = period_bounds(period)
    names = list(addressee.names)
    paid_cents = int(document.amount_cents or 0)
    paid = euros(paid_cents)
    if kind == QUITTANCE:
        whom = "leur" if len(names) > 1 else "lui"
        return (
            f"L'{office}, bailleur, déclare avoir reçu de {holders_text(names)} la somme de {paid} au titre du "
            f"loyer et des charges du logement ci-dessus pour la période du {date_long_fr(start)} au "
            f"{date_long_fr(end)}, et {whom} en donne quittance, sous réserve de tous ses droits. "
            "Cette quittance solde la période indiquée."
        )
    return (
        f"L'{office}, bailleur, déclare avoir reçu de {holders_text(names)} la somme de {paid} en paiement "
        f"partiel de l'avis d'échéance de {period_label(period)} (montant dû : {euros(settlement.due_cents)}). "
        f"Ce reçu ne vaut pas quittance : il reste {euros(settlement.due_cents - paid_cents)} à payer pour cette "
        "période."
    )
