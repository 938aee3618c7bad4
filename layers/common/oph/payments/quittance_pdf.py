"""The PDF of a quittance (fully paid period) or reçu (partially paid period): rent and charges
shown separately (loi du 6 juillet 1989, art. 21), aid on its own line, the settling statement.
Drawn with the notices' sheet (:mod:`oph.documents.notice_pdf`).
"""

from __future__ import annotations

import calendar
from typing import Any

from oph.documents.model import Document
from oph.documents.notice_pdf import OFFICE_ADDRESS, OFFICE_NAME, Addressee, Sheet, address_window, references
from oph.payments.model import TenancySnapshot
from oph.payments.settlement import Settlement
from oph.platform.french import date_fr, date_long_fr, euros, period_label

QUITTANCE, RECU = "quittance", "recu"


def _sum(lines: list[dict[str, Any]], category: str) -> int:
    return sum(int(line.get("amount_cents", 0)) for line in lines if line.get("category") == category)


def _period_bounds(period: str) -> tuple[str, str]:
    year, month = (int(p) for p in period.split("-"))
    last = calendar.monthrange(year, month)[1]
    return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"


def render_quittance(document: Document, settlement: Settlement, snapshot: TenancySnapshot) -> bytes:
    kind = (document.extra or {}).get("kind", QUITTANCE)
    period = str(document.period)
    addressee = Addressee.of(snapshot.tenancy, snapshot.holders)
    heading = "QUITTANCE DE LOYER" if kind == QUITTANCE else "REÇU"
    sheet = Sheet(f"{'Quittance de loyer' if kind == QUITTANCE else 'Reçu'} {period_label(period)}")
    sheet.letterhead(
        heading, [f"Période : {period_label(period, capitalize=True)}", f"Date : {date_fr(document.issued_on)}"]
    )
    references(sheet, document.tenant_number, addressee)
    address_window(sheet, addressee)
    _parties(sheet, addressee, period)
    y = _detail(sheet, document, settlement, kind) + 20
    y = sheet.paragraph(15, y, _statement(document, settlement, kind, addressee), 180, size=9.5) + 10
    sheet.text(120, y, f"Fait à Aubervilliers, le {date_long_fr(document.issued_on)}", size=9.5)
    sheet.text(120, y + 6, "Pour l'Office, le service Gestion locative", size=8.5)
    sheet.centre(105, 287, f"{OFFICE_NAME} — {OFFICE_ADDRESS}", size=6.5)
    return sheet.finish()


def _parties(sheet: Sheet, addressee: Addressee, period: str) -> None:
    start, end = _period_bounds(period)
    top = 88.0
    sheet.text(15, top, "Bailleur :", size=9, bold=True)
    sheet.text(50, top, f"{OFFICE_NAME}, {OFFICE_ADDRESS}", size=8.5)
    sheet.text(15, top + 6, "Locataire(s) :", size=9, bold=True)
    sheet.text(50, top + 6, ", ".join(addressee.names), size=9)
    sheet.text(15, top + 12, "Logement loué :", size=9, bold=True)
    sheet.text(50, top + 12, f"{addressee.address_line1}, {addressee.town}".strip(", "), size=9)
    sheet.text(15, top + 18, "Période :", size=9, bold=True)
    sheet.text(50, top + 18, f"du {date_long_fr(start)} au {date_long_fr(end)}", size=9)


def _rows(notice: Document) -> list[tuple[str, int]]:
    """Rent and charges shown separately (loi du 6 juillet 1989, art. 21), aid on its own line."""
    lines = list((notice.extra or {}).get("lines") or [])
    rent, charges, aid, other = (_sum(lines, c) for c in ("rent", "charges", "aid", "other"))
    rows: list[tuple[str, int]] = [("Loyer (hors charges)", rent), ("Provisions pour charges", charges)]
    if other:
        rows.append(("Autres sommes", other))
    if aid:
        rows.append(("Aide au logement (APL) versée à l'Office, déduite", aid))
    return rows


def _detail(sheet: Sheet, document: Document, settlement: Settlement, kind: str) -> float:
    """The detail table; returns where it ends."""
    top = 118.0
    sheet.box(15, top, 180, 8, fill=(0.93, 0.94, 0.96))
    sheet.text(18, top + 5.5, f"DÉTAIL — {period_label(str(document.period)).upper()}", size=9, bold=True)
    sheet.right(192, top + 5.5, "Montant", size=9, bold=True)
    y = top + 14
    for label, cents in _rows(settlement.notice):
        sheet.text(18, y, label, size=9)
        sheet.right(192, y, euros(cents), size=9)
        y += 6
    sheet.line(15, y - 2, 195, y - 2)
    sheet.text(18, y + 4, "Total dû pour la période", size=10, bold=True)
    sheet.right(192, y + 4, euros(settlement.due_cents), size=10, bold=True)
    y += 10
    sheet.text(18, y + 4, "Montant payé", size=10, bold=True)
    sheet.right(192, y + 4, euros(int(document.amount_cents or 0)), size=10, bold=True)
    if kind == RECU:
        y += 6
        sheet.text(18, y + 4, "Reste à payer", size=9)
        sheet.right(192, y + 4, euros(settlement.due_cents - int(document.amount_cents or 0)), size=9)
    sheet.box(15, top, 180, y + 8 - top)
    return y


def _statement(document: Document, settlement: Settlement, kind: str, addressee: Addressee) -> str:
    period = str(document.period)
    start, end = _period_bounds(period)
    names = " et ".join(addressee.names) or "le locataire"
    paid = euros(int(document.amount_cents or 0))
    if kind == QUITTANCE:
        return (
            f"L'Office Public de l'Habitat d'Aubervilliers, bailleur, déclare avoir reçu de {names} la somme de "
            f"{paid} au titre du loyer et des charges du logement ci-dessus pour la période du {date_long_fr(start)} "
            f"au {date_long_fr(end)}, et lui en donne quittance, sous réserve de tous ses droits. "
            "Cette quittance solde la période indiquée."
        )
    return (
        f"L'Office Public de l'Habitat d'Aubervilliers, bailleur, déclare avoir reçu de {names} la somme de "
        f"{paid} en paiement partiel de l'avis d'échéance de {period_label(period)} (montant dû : "
        f"{euros(settlement.due_cents)}). Ce reçu ne vaut pas quittance : il reste "
        f"{euros(settlement.due_cents - int(document.amount_cents or 0))} à payer pour cette période."
    )
