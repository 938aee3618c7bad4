"""The office's printed sheet, shared by every PDF a tenant receives: avis d'échéance,
quittances and reçus, reçus de paiement, relevés de compte and mandats de prélèvement SEPA.

One letterhead (the office's block top-left, the document's kind and references top-right),
one references box (N° intitulé, N° contrat, N° tiers and the interlocuteur with its address
and phone), one envelope window, and a footer with the office's details on every page. Every
office detail comes from :func:`oph.platform.office.get_office` (contract section 9), never
from this module.

reportlab is imported inside the methods only: the listing route imports the documents
package, never its PDF dependency, and cold starts stay short. Text uses the standard
Helvetica font with reportlab's WinAnsi encoding (é, è, à, ç, €, «», —, – and • are all in
it), so nothing is embedded and the same PDF renders in Lambda, where no system font exists;
a character outside that encoding (an imported label, a configured value) is folded to its
unaccented form, or printed as "?", rather than dropped silently. Output is ``invariant`` (no
timestamp or random id): rendering twice gives the same bytes.

What every page of a kind shares (the footer; the avis' frames and fixed texts) is drawn once
per container into a :class:`Template` (the PDF operators reportlab wrote for it) and copied
into each new PDF (:meth:`Sheet.replay`): a notice worker publishes thousands of notices and
the office's details do not change between them. The page looks the same either way.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oph.platform.office import Office, get_office
from oph.platform.settings import get_settings

# The office's service that manages tenancies: the "interlocuteur" printed on its notices.
SERVICE = "Service Gestion locative"

MM = 72 / 25.4
PAGE_W = 595.2756
PAGE_H = 841.8898  # A4 height in points
BLUE = (0 / 255, 75 / 255, 135 / 255)
GREY = (0.93, 0.94, 0.96)
WHITE = (1.0, 1.0, 1.0)
BLACK = (0.0, 0.0, 0.0)
# Where the footer starts: content must end above it.
FOOTER_TOP = 283.0
_SPACES = str.maketrans(dict.fromkeys("\u00a0\u202f\u2009\u2007", " "))


def printable(value: object) -> str:
    """The text as the standard fonts can print it (WinAnsi): spaces of every width become a
    plain space, accents outside the encoding are folded, anything else becomes "?"."""
    text = str(value).translate(_SPACES)
    try:
        text.encode("cp1252")  # the usual case: every character prints as it is
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode("cp1252")
            out.append(char)
        except UnicodeEncodeError:
            folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(folded if folded and folded.isascii() else "?")
    return "".join(out)


@dataclass(frozen=True)
class Addressee:
    """Who a document is addressed to and where the home is."""

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

    @property
    def rental_address(self) -> str:
        """One line: "10 Rue Hémet, 93300 AUBERVILLIERS"."""
        return f"{self.address_line1}, {self.town}".strip(", ")


TEST_STAMP = "DOCUMENT DE TEST — SANS VALEUR"


@dataclass(frozen=True)
class Template:
    """Part of a page drawn once: the PDF operators reportlab wrote for it, and the internal
    names its fonts had (a PDF that replays it must give them the same names). Only paths,
    colours and the standard fonts: no image, no transparency."""

    operators: str
    fonts: tuple[tuple[str, str], ...]  # (font, internal name such as "/F2"), in naming order


def record(office: Office, draw: Callable[[Sheet], None]) -> Template:
    """What ``draw`` puts on a page, as a template (drawn on a scratch sheet of the office)."""
    sheet = Sheet("", office=office)
    code = sheet.canvas._code  # reportlab's operator list for the page being drawn
    start = len(code)
    draw(sheet)
    mapping = sheet.canvas._doc.fontMapping
    fonts = tuple(sorted(mapping.items(), key=lambda item: int(item[1].lstrip("/F"))))
    return Template(" ".join(code[start:]), fonts)


@functools.lru_cache(maxsize=1024)
def _split(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    from reportlab.lib.utils import simpleSplit

    return tuple(simpleSplit(text, font, size, width))


def is_test_stage() -> bool:
    """The sandbox gateway (never in production) means every document is a test document."""
    return get_settings().payment_provider == "sandbox"


class Sheet:
    """A thin drawing helper over a reportlab canvas, in millimetres from the top-left, that
    prints the office's footer on every page (with "Page n/N" when ``total_pages`` is set)."""

    def __init__(self, title: str, *, total_pages: int | None = None, office: Office | None = None) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        self.office: Office = office or get_office()
        self.buffer = io.BytesIO()
        self.canvas = canvas.Canvas(self.buffer, pagesize=A4, invariant=1, pageCompression=1)
        self.canvas.setTitle(printable(title))
        self.canvas.setAuthor(printable(self.office.name))
        self.canvas.setCreator("Mon espace locataire")
        self.page = 1
        self.total_pages = total_pages

    def _y(self, top_mm: float) -> float:
        return PAGE_H - top_mm * MM

    def _font(self, size: float, bold: bool, color: Any) -> None:
        self.canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.canvas.setFillColorRGB(*(color or BLACK))

    def text(
        self, x_mm: float, top_mm: float, value: str, *, size: float = 9, bold: bool = False, color: Any = None
    ) -> None:
        self._font(size, bold, color)
        self.canvas.drawString(x_mm * MM, self._y(top_mm), printable(value))

    def right(
        self, x_mm: float, top_mm: float, value: str, *, size: float = 9, bold: bool = False, color: Any = None
    ) -> None:
        self._font(size, bold, color)
        self.canvas.drawRightString(x_mm * MM, self._y(top_mm), printable(value))

    def centre(
        self, x_mm: float, top_mm: float, value: str, *, size: float = 9, bold: bool = False, color: Any = None
    ) -> None:
        self._font(size, bold, color)
        self.canvas.drawCentredString(x_mm * MM, self._y(top_mm), printable(value))

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

    def line(self, x1: float, top1: float, x2: float, top2: float, *, dash: bool = False, width: float = 0.6) -> None:
        c = self.canvas
        c.setLineWidth(width)
        c.setStrokeColorRGB(0.25, 0.25, 0.25)
        if dash:
            c.setDash(4, 3)
        c.line(x1 * MM, self._y(top1), x2 * MM, self._y(top2))
        c.setDash()

    def wrap(self, value: str, width_mm: float, *, size: float = 9, bold: bool = False) -> list[str]:
        """The lines ``value`` takes at this width."""
        font = "Helvetica-Bold" if bold else "Helvetica"
        return list(_split(printable(value), font, size, width_mm * MM)) or [""]

    def replay(self, template: Template) -> None:
        """Draw a template here, in its own graphics state (``q`` … ``Q``): what it sets (a
        colour, a font) does not leak into what is drawn after it."""
        doc = self.canvas._doc
        for font, name in template.fonts:
            if doc.getInternalFontName(font) != name:  # named in the same order as when recorded
                raise RuntimeError(f"template font {font} is {name} in its recording only")
        self.canvas.addLiteral(f"q {template.operators} Q")

    def paragraph(
        self, x_mm: float, top_mm: float, value: str, width_mm: float, *, size: float = 9, bold: bool = False
    ) -> float:
        """Wrapped text; returns the top of the line after it."""
        for line in self.wrap(value, width_mm, size=size, bold=bold):
            self.text(x_mm, top_mm, line, size=size, bold=bold)
            top_mm += size * 0.5
        return top_mm

    def letterhead(self, kind: str, subtitle_lines: Sequence[str], *, frame: bool = True) -> None:
        """Office block top-left, document kind and references top-right (without ``frame``:
        the subtitle lines only, the rest being a template)."""
        office = self.office
        if frame:
            self.box(15, 12, 95, 24, fill=BLUE)
            y = 19.0
            for line in self.wrap(office.name.upper(), 87, size=11, bold=True)[:2]:
                self.text(19, y, line, size=11, bold=True, color=WHITE)
                y += 5.5
            self.text(19, 33, office.postal_address, size=7.5, color=WHITE)
            self.right(195, 20, kind, size=16, bold=True)
        for index, line in enumerate(subtitle_lines):
            self.right(195, 27 + index * 5, line, size=10)

    def running_head(self, kind: str, subtitle: str) -> None:
        """The top of a continuation page: the office, the document, what it is about."""
        self.text(15, 15, self.office.name, size=9, bold=True, color=BLUE)
        self.right(195, 15, f"{kind} — {subtitle}", size=9, bold=True)
        self.line(15, 18, 195, 18, width=0.4)

    def footer(self) -> None:
        """The office's details at the bottom of the page (a template), and "Page n/N"."""
        self.replay(footer_template(self.office))
        if self.total_pages:
            self.right(195, FOOTER_TOP + 11, f"Page {self.page}/{self.total_pages}", size=6.5)

    def test_stamp(self) -> None:
        """ "DOCUMENT DE TEST — SANS VALEUR" across the page (contract section 6): every PDF of a
        stage whose payment gateway is the sandbox, so a test document never passes for a
        real one. Drawn last, translucent, over the page's content."""
        c = self.canvas
        c.saveState()
        c.setFillColorRGB(0.75, 0.1, 0.1)
        c.setFillAlpha(0.22)
        c.translate(PAGE_W / 2, PAGE_H / 2)
        c.rotate(52)
        c.setFont("Helvetica-Bold", 38)
        c.drawCentredString(0, 0, printable(TEST_STAMP))
        c.restoreState()

    def end_page(self) -> None:
        self.footer()
        if is_test_stage():
            self.test_stamp()

    def new_page(self) -> None:
        """Close the page (with its footer) and start the next one."""
        self.end_page()
        self.canvas.showPage()
        self.page += 1

    def finish(self) -> bytes:
        self.end_page()
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def _draw_footer(sheet: Sheet) -> None:
    office = sheet.office
    sheet.line(15, FOOTER_TOP, 195, FOOTER_TOP, width=0.3)
    sheet.centre(105, FOOTER_TOP + 4, f"{office.name} — {office.postal_address}", size=6.5)
    contact = f"Tél. {office.phone} — {office.email} — {office.website}"
    sheet.centre(105, FOOTER_TOP + 7.5, contact, size=6.5)
    hours = " ; ".join(office.opening_hours)
    if hours:
        sheet.centre(105, FOOTER_TOP + 11, f"Accueil : {hours}", size=6.5)


@functools.lru_cache(maxsize=8)
def footer_template(office: Office) -> Template:
    """The footer of every page of every document of this office, drawn once per container."""
    return record(office, _draw_footer)


def address_window(sheet: Sheet, addressee: Addressee | None, top: float = 52, *, frame: bool = True) -> None:
    """Where the envelope window is on the paper notice (``addressee`` None: the frame only;
    without ``frame``: the names and address only)."""
    if frame:
        sheet.box(110, top - 6, 85, 30)
    if addressee is None:
        return
    y = top
    for name in addressee.names[:3] or [""]:
        sheet.text(114, y, name, size=10, bold=True)
        y += 5
    sheet.text(114, y, addressee.address_line1, size=10)
    sheet.text(114, y + 5, addressee.town, size=10)


REFERENCE_LABELS = ("N° intitulé", "N° contrat", "N° tiers")


def references(
    sheet: Sheet, tenant_number: str, addressee: Addressee | None, top: float = 46, *, frame: bool = True
) -> float:
    """The references box: N° intitulé, N° contrat, N° tiers, then the interlocuteur (the
    office's service) with its address and phone. Returns where the box ends. ``addressee``
    None: the box, its labels and the interlocuteur only; without ``frame``: the values only."""
    office = sheet.office
    if frame:
        sheet.box(15, top, 88, 42, fill=GREY)
    values = (tenant_number, addressee.contract_number, addressee.third_party_number) if addressee is not None else ()
    y = top + 6.5
    for index, label in enumerate(REFERENCE_LABELS):
        if frame:
            sheet.text(18, y, f"{label} :", size=9)
        if values:
            sheet.text(45, y, values[index], size=10, bold=True)
        y += 6
    if frame:
        sheet.text(18, y, "Interlocuteur :", size=9)
        for index, value in enumerate((SERVICE, office.address_line1, office.town, f"Tél. : {office.phone}")):
            sheet.text(45, y + index * 4.3, value, size=9 if index == 0 else 8, bold=index == 0)
    return top + 42
