"""The "reçu de paiement" PDF of one online payment.

A reçu de paiement acknowledges an amount received; it is not a quittance (which states that a
whole period's rent and charges are paid, loi du 6 juillet 1989, art. 21), and says so. It
shows what a tenant needs when calling the office or the bank: the payment's reference read
out on the phone (:func:`oph.payments.references.reference_of`, not the 32-character id), the
gateway's transaction number (``vads_trans_id``) and its own reference of the transaction
(``trans_uuid``, "référence de la banque"), the time of payment in Paris time ("14 h 05").

Drawn on the office's sheet (:mod:`oph.documents.sheet`: the office's header and footer). The
output is deterministic (``invariant``): the same payment always gives the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from oph.documents.sheet import GREY, Sheet
from oph.payments.references import reference_of

_CLOCK = re.compile(r"^(\d{1,2})[:h ]+(\d{2})$")


@dataclass(frozen=True)
class ReceiptDetails:
    payment_id: str
    tenant_number: str
    holder_name: str
    amount: str  # already formatted: "220,00 €"
    paid_on: str  # DD/MM/YYYY, Paris time
    paid_time: str  # HH:MM, Paris time
    trans_id: str
    trans_date: str  # YYYYMMDDHHMMSS (UTC), as sent to the gateway
    issued_on: str  # "12 juin 2024"
    contract_number: str = ""
    address_lines: list[str] = field(default_factory=list)
    trans_uuid: str = ""  # the gateway's own reference of the transaction

    @property
    def reference(self) -> str:
        """The reference a tenant reads out on the phone: "123456-20240612-000042"."""
        return reference_of(self.tenant_number, self.trans_date, self.trans_id)


def french_time(clock_time: str) -> str:
    """``14:05`` -> ``14 h 05``, ``09:05`` -> ``9 h 05`` (contract section 1)."""
    found = _CLOCK.match(clock_time.strip())
    return f"{int(found[1])} h {found[2]}" if found else clock_time


def render_receipt(details: ReceiptDetails) -> bytes:
    sheet = Sheet(f"Reçu de paiement {details.reference}")
    sheet.canvas.setSubject("Reçu de paiement en ligne")
    sheet.letterhead("REÇU DE PAIEMENT", [f"Paiement en ligne du {details.paid_on}", f"Émis le {details.issued_on}"])
    _addressee(sheet, details)
    y = _rows(sheet, details, 84)
    _statement(sheet, details, y + 8)
    return sheet.finish()


def _addressee(sheet: Sheet, details: ReceiptDetails) -> None:
    sheet.box(110, 44, 85, 30)
    sheet.text(114, 51, details.holder_name, size=10, bold=True)
    for index, line in enumerate(details.address_lines[:3]):
        sheet.text(114, 56 + index * 5, line, size=10)


def _rows(sheet: Sheet, details: ReceiptDetails, top: float) -> float:
    """The payment's details, one per row; returns where they end."""
    day = details.trans_date[:8]
    trans_day = f"{day[6:8]}/{day[4:6]}/{day[:4]}" if len(day) == 8 else ""
    rows = [
        ("N° intitulé", details.tenant_number),
        ("N° contrat", details.contract_number),
        ("Titulaire", details.holder_name),
        ("Montant reçu", details.amount),
        ("Date du paiement", f"{details.paid_on} à {french_time(details.paid_time)} (heure de Paris)"),
        ("Moyen de paiement", "Carte bancaire, paiement en ligne"),
        ("Référence du paiement", details.reference),
        ("N° de transaction", f"{details.trans_id} du {trans_day}" if trans_day else details.trans_id),
        ("Référence de la banque", details.trans_uuid),
    ]
    sheet.box(15, top, 180, 8, fill=GREY)
    sheet.text(18, top + 5.5, "VOTRE PAIEMENT", size=9, bold=True)
    y = top + 14
    for index, (label, value) in enumerate((label, value) for label, value in rows if value):
        if index:
            sheet.line(15, y - 5.5, 195, y - 5.5, width=0.2)
        sheet.text(18, y, label, size=9.5)
        sheet.text(75, y, value, size=11 if label == "Montant reçu" else 9.5, bold=True)
        y += 8
    sheet.box(15, top, 180, y - 5.5 - top)
    return y


def _statement(sheet: Sheet, details: ReceiptDetails, y: float) -> None:
    office = sheet.office
    for text in (
        f"L'{office.name} atteste avoir reçu la somme de {details.amount} réglée en ligne par carte bancaire.",
        "Ce montant sera imputé sur votre compte locataire lors de la prochaine mise à jour de votre solde.",
        "Ce reçu ne vaut pas quittance : la quittance de loyer est délivrée pour une période entièrement réglée.",
        "Aucun frais n'est appliqué aux paiements par carte bancaire.",
        f"Pour toute question sur ce paiement, contactez l'Office au {office.phone} en rappelant la référence "
        f"{details.reference}.",
    ):
        y = sheet.paragraph(15, y, text, 180, size=9) + 1.5
