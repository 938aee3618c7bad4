"""The avis d'échéance (rent notice) PDF, laid out like the office's paper notice.

reportlab is imported inside the functions only: the listing route imports this package's
siblings, never this module's dependency, and cold starts stay short. Text uses the standard
Helvetica font with reportlab's WinAnsi encoding (é, è, à, ç, €, «», — are all in it), so
nothing is embedded and the same PDF renders in Lambda, where no system font exists.
Output is ``invariant`` (no timestamp or random id), so rendering twice gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oph.documents.model import Document
from oph.platform.french import date_fr, euros, period_label

OFFICE_NAME = "OFFICE PUBLIC DE L'HABITAT D'AUBERVILLIERS"
OFFICE_ADDRESS = "122 bis, rue André Karman — 93300 Aubervilliers"
OFFICE_SERVICE = "Service Gestion locative"
CATEGORY_LABELS = {"rent": "Loyer", "charges": "Charges", "aid": "Aide au logement", "other": "Divers"}

MM = 72 / 25.4
PAGE_W, PAGE_H = 595.2756, 841.8898  # A4 in points
BLUE = (0 / 255, 75 / 255, 135 / 255)
GREY = (0.93, 0.94, 0.96)


@dataclass(frozen=True)
class Addressee:
    """Who the document is addressed to and where the home is."""

    names: Sequence[str]  # "DUPOND Jean", one per holder
    contract_number: str
    third_party_number: str
    address_line1: str
    postal_code: str
    city: str

    @classmethod
    def of(cls, tenancy: Mapping[str, Any] | Any, holders: Iterable[Any]) -> Addressee:
        get = tenancy.get if isinstance(tenancy, Mapping) else lambda k, d="": getattr(tenancy, k, d)
        names = sorted(f"{h.last_name} {h.first_name}".strip() for h in holders)
        return cls(
            names=names,
            contract_number=str(get("contract_number", "") or ""),
            third_party_number=str(get("third_party_number", "") or ""),
            address_line1=str(get("address_line1", "") or ""),
            postal_code=str(get("postal_code", "") or ""),
            city=str(get("city", "") or ""),
        )

    @property
    def town(self) -> str:
        return f"{self.postal_code} {self.city}".strip()


class Sheet:
    """A thin drawing helper over a reportlab canvas, in millimetres from the top-left."""

    def __init__(self, title: str) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        self.buffer = io.BytesIO()
        self.canvas = canvas.Canvas(self.buffer, pagesize=A4, invariant=1, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor(OFFICE_NAME.title())
        self.canvas.setCreator("Mon espace locataire")

    def _y(self, top_mm: float) -> float:
        return PAGE_H - top_mm * MM

    def text(
        self, x_mm: float, top_mm: float, value: str, *, size: float = 9, bold: bool = False, color: Any = None
    ) -> None:
        c = self.canvas
        c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        c.setFillColorRGB(*(color or (0, 0, 0)))
        c.drawString(x_mm * MM, self._y(top_mm), value)

    def right(self, x_mm: float, top_mm: float, value: str, *, size: float = 9, bold: bool = False) -> None:
        c = self.canvas
        c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        c.setFillColorRGB(0, 0, 0)
        c.drawRightString(x_mm * MM, self._y(top_mm), value)

    def centre(self, x_mm: float, top_mm: float, value: str, *, size: float = 9, bold: bool = False) -> None:
        c = self.canvas
        c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        c.setFillColorRGB(0, 0, 0)
        c.drawCentredString(x_mm * MM, self._y(top_mm), value)

    def box(
        self, x_mm: float, top_mm: float, w_mm: float, h_mm: float, *, fill: Any = None, dash: bool = False
    ) -> None:
        c = self.canvas
        c.setLineWidth(0.6)
        c.setStrokeColorRGB(0.25, 0.25, 0.25)
        if dash:
            c.setDash(3, 2)
        if fill:
            c.setFillColorRGB(*fill)
        c.rect(x_mm * MM, self._y(top_mm + h_mm), w_mm * MM, h_mm * MM, stroke=1, fill=1 if fill else 0)
        c.setDash()

    def paragraph(self, x_mm: float, top_mm: float, value: str, width_mm: float, *, size: float = 9) -> float:
        """Wrapped text; returns the top of the line after it."""
        from reportlab.lib.utils import simpleSplit

        for line in simpleSplit(value, "Helvetica", size, width_mm * MM):
            self.text(x_mm, top_mm, line, size=size)
            top_mm += size * 0.55
        return top_mm

    def line(self, x1: float, top1: float, x2: float, top2: float, *, dash: bool = False, width: float = 0.6) -> None:
        c = self.canvas
        c.setLineWidth(width)
        c.setStrokeColorRGB(0.25, 0.25, 0.25)
        if dash:
            c.setDash(4, 3)
        c.line(x1 * MM, self._y(top1), x2 * MM, self._y(top2))
        c.setDash()

    def letterhead(self, kind: str, subtitle_lines: Sequence[str]) -> None:
        """Office block top-left, document kind and references top-right."""
        self.box(15, 12, 95, 22, fill=BLUE)
        self.text(19, 20, "OFFICE PUBLIC DE L'HABITAT", size=11, bold=True, color=(1, 1, 1))
        self.text(19, 25.5, "D'AUBERVILLIERS", size=11, bold=True, color=(1, 1, 1))
        self.text(19, 31, OFFICE_ADDRESS, size=7.5, color=(1, 1, 1))
        # The full name on one line as well, as printed on the paper notice under the logo.
        self.text(15, 39, OFFICE_NAME, size=7, bold=True, color=BLUE)
        self.right(195, 20, kind, size=16, bold=True)
        for index, line in enumerate(subtitle_lines):
            self.right(195, 27 + index * 5, line, size=10)

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def address_window(sheet: Sheet, addressee: Addressee, top: float = 52) -> None:
    """Where the envelope window is on the paper notice."""
    sheet.box(110, top - 6, 85, 30)
    y = top
    for name in addressee.names[:3] or [""]:
        sheet.text(114, y, name, size=10, bold=True)
        y += 5
    sheet.text(114, y, addressee.address_line1, size=10)
    sheet.text(114, y + 5, addressee.town, size=10)


def references(sheet: Sheet, tenant_number: str, addressee: Addressee, top: float = 46) -> None:
    sheet.box(15, top, 88, 32, fill=GREY)
    rows = (
        ("N° intitulé", tenant_number),
        ("N° contrat", addressee.contract_number),
        ("N° tiers", addressee.third_party_number),
        ("Interlocuteur", OFFICE_SERVICE),
    )
    for index, (label, value) in enumerate(rows):
        y = top + 7 + index * 7
        sheet.text(18, y, f"{label} :", size=9)
        sheet.text(45, y, value, size=9 if label == "Interlocuteur" else 10, bold=label != "Interlocuteur")


def render_notice(document: Document, tenancy: Mapping[str, Any] | Any, holders: Iterable[Any]) -> bytes:
    """The PDF of one avis d'échéance (``document`` is its index item, lines in ``extra``)."""
    addressee = Addressee.of(tenancy, holders)
    period = str(document.period)
    sheet = Sheet(f"Avis d'échéance {period_label(period)}")
    sheet.letterhead(
        "AVIS D'ÉCHÉANCE",
        [f"Période : {period_label(period, capitalize=True)}", f"Date d'émission : {date_fr(document.issued_on)}"],
    )
    references(sheet, document.tenant_number, addressee)
    address_window(sheet, addressee)
    sheet.text(15, 88, "Adresse de la location :", size=9, bold=True)
    sheet.text(55, 88, f"{addressee.address_line1}, {addressee.town}".strip(", "), size=9)
    y = _notice_lines(sheet, document, top=97)
    y = _amount_to_pay(sheet, document, y + 16)
    _account_situation(sheet, document, y + 24)
    _slip(sheet, document, addressee, top=232)
    sheet.centre(105, 287, f"{OFFICE_NAME} — {OFFICE_ADDRESS}", size=6.5)
    return sheet.finish()


def _notice_lines(sheet: Sheet, document: Document, top: float) -> float:
    """Lines of the notice, as on the paper notice: label, nature, amount; then the total.
    Returns the top of the total's line."""
    sheet.box(15, top, 180, 8, fill=GREY)
    sheet.text(18, top + 5.5, f"DÉTAIL DE L'ÉCHÉANCE — {period_label(str(document.period)).upper()}", size=9, bold=True)
    sheet.text(125, top + 5.5, "Nature", size=9, bold=True)
    sheet.right(192, top + 5.5, "Montant", size=9, bold=True)
    y = top + 14
    for line in list((document.extra or {}).get("lines") or []):
        sheet.text(18, y, str(line.get("label", ""))[:70], size=9)
        sheet.text(125, y, CATEGORY_LABELS.get(str(line.get("category")), ""), size=8)
        sheet.right(192, y, euros(int(line.get("amount_cents", 0))), size=9)
        y += 6
    sheet.line(15, y - 2, 195, y - 2)
    total = int(document.amount_due_cents or 0)
    sheet.text(18, y + 4, "TOTAL DE L'ÉCHÉANCE", size=10, bold=True)
    sheet.right(192, y + 4, euros(total), size=10, bold=True)
    sheet.box(15, top, 180, y + 8 - top)
    return y


def _amount_to_pay(sheet: Sheet, document: Document, y: float) -> float:
    """What to pay and by when."""
    total = int(document.amount_due_cents or 0)
    sheet.box(15, y, 180, 16, fill=GREY)
    sheet.text(18, y + 7, "Montant à payer :", size=11, bold=True)
    sheet.text(58, y + 7, euros(total), size=11, bold=True)
    sheet.text(105, y + 7, "Date limite de paiement :", size=11, bold=True)
    sheet.text(160, y + 7, date_fr(str(document.due_date)), size=11, bold=True)
    sheet.text(
        18,
        y + 13,
        "Payez en ligne par carte bancaire, sans frais, dans l'application « Mon espace locataire ».",
        size=8,
    )
    return y


def _account_situation(sheet: Sheet, document: Document, y: float) -> None:
    """The balance of the office's records at its date."""
    extra = document.extra or {}
    sheet.text(15, y, "SITUATION DE VOTRE COMPTE", size=10, bold=True)
    balance, balance_date = extra.get("balance_cents"), extra.get("balance_date")
    if balance is not None and balance_date:
        state = "somme due" if int(balance) > 0 else "en votre faveur" if int(balance) < 0 else "compte à jour"
        sheet.text(15, y + 6, f"Solde au {date_fr(str(balance_date))} :", size=9)
        sheet.text(58, y + 6, euros(int(balance)), size=9, bold=True)
        sheet.text(85, y + 6, f"({state})", size=9)
        if str(balance_date) < document.issued_on:
            sheet.text(15, y + 11, "Ce solde ne tient pas compte du présent avis.", size=8)
    else:
        sheet.text(15, y + 6, "Solde non communiqué à la date de cet avis.", size=9)
    sheet.text(
        15,
        y + 18,
        "En cas de difficulté de paiement, contactez sans attendre votre interlocuteur : des solutions existent.",
        size=8,
    )


def _slip(sheet: Sheet, document: Document, addressee: Addressee, top: float) -> None:
    """Tear-off slip, as at the bottom of the paper notice."""
    period = str(document.period)
    total = int(document.amount_due_cents or 0)
    y = top
    sheet.line(10, y, 200, y, dash=True)
    sheet.text(15, y + 7, "TALON À JOINDRE À VOTRE RÈGLEMENT", size=9, bold=True)
    sheet.text(15, y + 14, f"N° intitulé : {document.tenant_number}", size=9)
    sheet.text(15, y + 20, f"Période : {period_label(period, capitalize=True)}", size=9)
    sheet.text(15, y + 26, f"N° contrat : {addressee.contract_number}", size=9)
    sheet.text(110, y + 14, f"Montant : {euros(total)}", size=9, bold=True)
    sheet.text(110, y + 20, f"Date limite : {date_fr(str(document.due_date))}", size=9)
    sheet.text(110, y + 26, (addressee.names or [""])[0], size=9)
