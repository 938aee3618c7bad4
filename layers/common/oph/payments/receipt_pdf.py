"""The "reçu de paiement" PDF of one online payment (reportlab, imported only here).

A reçu de paiement acknowledges an amount received; it is not a quittance (which states
that a whole period's rent and charges are paid, loi du 6 juillet 1989, art. 21), and says so.
The output is deterministic (``invariant``): the same payment always gives the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

OFFICE = "Office Public de l'Habitat d'Aubervilliers"


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


def render_receipt(details: ReceiptDetails) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    pdf.setTitle(f"Reçu de paiement {details.payment_id}")
    pdf.setAuthor(OFFICE)
    pdf.setSubject("Reçu de paiement en ligne")
    y = _header(pdf, details)
    y = _rows(pdf, details, y)
    _statement(pdf, details, y)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _header(pdf: Any, details: ReceiptDetails) -> float:
    """The header band, the title and the addressee; returns where the rows start."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    width, height = A4
    left = 20 * mm
    pdf.setFillColorRGB(0, 0.294, 0.529)
    pdf.rect(0, height - 30 * mm, width, 30 * mm, stroke=0, fill=1)
    pdf.setFillColorRGB(1, 1, 1)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(left, height - 15 * mm, OFFICE)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(left, height - 22 * mm, "Mon espace locataire — paiement en ligne par carte bancaire")

    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(left, height - 48 * mm, "Reçu de paiement")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(left, height - 55 * mm, f"Émis le {details.issued_on}")

    y: float = height - 70 * mm
    if details.holder_name or details.address_lines:
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(width / 2, y, details.holder_name)
        pdf.setFont("Helvetica", 10)
        for i, line in enumerate(details.address_lines):
            pdf.drawString(width / 2, y - (5 + 5 * i) * mm, line)
        y -= 25 * mm
    return y


def _rows(pdf: Any, details: ReceiptDetails, y: float) -> float:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    width, _height = A4
    left = 20 * mm
    rows = [
        ("N° d'intitulé", details.tenant_number),
        ("N° de contrat", details.contract_number),
        ("Titulaire", details.holder_name),
        ("Montant reçu", details.amount),
        ("Date du paiement", f"{details.paid_on} à {details.paid_time} (heure de Paris)"),
        ("Moyen de paiement", "Carte bancaire, paiement en ligne"),
        ("Référence du paiement", details.payment_id),
        ("N° de transaction", f"{details.trans_id} du {_trans_day(details.trans_date)}"),
    ]
    for label, value in rows:
        if not value:
            continue
        pdf.setFont("Helvetica", 10)
        pdf.drawString(left, y, label)
        pdf.setFont("Helvetica-Bold", 11 if label == "Montant reçu" else 10)
        pdf.drawString(left + 55 * mm, y, value)
        pdf.setStrokeColorRGB(0.85, 0.85, 0.85)
        pdf.line(left, y - 2.5 * mm, width - left, y - 2.5 * mm)
        y -= 9 * mm
    return y


def _statement(pdf: Any, details: ReceiptDetails, y: float) -> None:
    from reportlab.lib.units import mm

    left = 20 * mm
    y -= 6 * mm
    pdf.setFont("Helvetica", 9)
    for line in (
        f"L'{OFFICE} atteste avoir reçu la somme de {details.amount} réglée en ligne par carte bancaire.",
        "Ce montant sera imputé sur votre compte locataire lors de la prochaine mise à jour de votre solde.",
        "Ce reçu ne vaut pas quittance : la quittance de loyer est délivrée pour une période entièrement réglée.",
        "Aucun frais n'est appliqué aux paiements par carte bancaire.",
    ):
        pdf.drawString(left, y, line)
        y -= 5 * mm

    pdf.setFont("Helvetica", 8)
    pdf.setFillColorRGB(0.35, 0.35, 0.35)
    pdf.drawString(left, 15 * mm, f"{OFFICE} — document généré automatiquement.")


def _trans_day(trans_date: str) -> str:
    if len(trans_date) < 8:
        return trans_date
    return f"{trans_date[6:8]}/{trans_date[4:6]}/{trans_date[:4]}"
