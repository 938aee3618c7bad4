"""The SEPA direct-debit mandate PDF (contract section 8): the tenant's copy of the mandate
signed in the app, listed in "Mes documents" as a ``mandate``.

It has what the SEPA core scheme asks of a mandate form (EPC rulebook, as French banks print
it): the title "Mandat de prélèvement SEPA", the unique mandate reference (RUM), the creditor
(the office's name, postal address and SEPA creditor identifier, ICS, from
:func:`oph.platform.office.get_office`), the debtor (the account holder's name as signed, the
tenancy's address, the IBAN), "Type de paiement : paiement récurrent", the date and place of
signature, and the standard text on the debtor's rights (authorisation given to the creditor
and to the bank, refund within 8 weeks of a debit). It adds what a tenant of the office needs:
the day of the month the rent is debited, what is debited for (the tenancy's N° intitulé and
contract), who signed it in the app, and how to stop it.

The IBAN is printed MASKED ("FR76 **** **** **** **** ***0 189"). A paper form carries the
full IBAN because the creditor keeps that paper; here the office keeps the IBAN encrypted
(KMS) and sends it in clear only to its own bank through the daily export, while this PDF is
the tenant's copy: it sits in S3 as an ordinary document, is downloaded through a presigned
URL, may be forwarded, printed or left on a phone. The country, key and last four characters
let the tenant recognise the account; the full IBAN adds no right and is a risk. The same
rule as every response and e-mail (contract section 8), and the mandate's own record holds
only the masked IBAN and the ciphertext, so drawing the PDF never decrypts anything.

Drawn on the office's sheet (:mod:`oph.documents.sheet`: letterhead, footer, and the test
stamp on a sandbox stage); the output is deterministic (same mandate, same bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

from oph.documents.sheet import BLUE, GREY, Sheet
from oph.payments.mandate import Mandate
from oph.platform.clock import paris_date
from oph.platform.french import date_fr, date_long_fr, time_fr
from oph.platform.office import Office
from oph.tenancy.model import Holder, Tenancy

APP_NAME = "Mon espace locataire"
RECURRENT = "paiement récurrent"


def rights_text(creditor_name: str) -> str:
    """The standard text of the SEPA core mandate on the debtor's rights (French version)."""
    return (
        f"En signant ce formulaire de mandat, vous autorisez {creditor_name} à envoyer des instructions à votre "
        "banque pour débiter votre compte, et votre banque à débiter votre compte conformément aux instructions "
        f"de {creditor_name}. Vous bénéficiez du droit d'être remboursé par votre banque selon les conditions "
        "décrites dans la convention que vous avez passée avec elle. Une demande de remboursement doit être "
        "présentée dans les 8 semaines suivant la date de débit de votre compte pour un prélèvement autorisé."
    )


RIGHTS_NOTE = (
    "Vos droits concernant le présent mandat sont expliqués dans un document que vous pouvez obtenir auprès de "
    "votre banque."
)


@dataclass(frozen=True)
class Debtor:
    """Who is debited and where they live (the tenancy's address)."""

    name: str
    address_line1: str
    town: str
    iban_masked: str
    tenant_number: str
    contract_number: str

    @classmethod
    def of(cls, mandate: Mandate, tenancy: Tenancy | None) -> Debtor:
        found = tenancy or Tenancy(mandate.tenant_number)
        return cls(
            name=mandate.account_holder,
            address_line1=found.address_line1,
            town=f"{found.postal_code} {found.city}".strip(),
            iban_masked=mandate.iban_masked,
            tenant_number=mandate.tenant_number,
            contract_number=found.contract_number,
        )


def debit_day_text(day: int) -> str:
    """ "le 5 de chaque mois (ou le jour ouvré suivant)"."""
    return f"le {'1er' if day == 1 else day} de chaque mois (ou le jour ouvré suivant)"


def signature_place(tenancy: Tenancy | None) -> str:
    """Where the mandate was signed: the debtor's town, as forms signed at home give it."""
    return tenancy.city if tenancy is not None and tenancy.city else "en ligne"


def render_mandate(mandate: Mandate, holder: Holder | None, tenancy: Tenancy | None) -> bytes:
    """The PDF of a signed mandate (``holder``: who signed it in the app)."""
    sheet = Sheet(f"Mandat de prélèvement SEPA {mandate.reference}")
    sheet.canvas.setSubject("Mandat de prélèvement SEPA (paiement récurrent)")
    signed_on = date_fr(paris_date(mandate.signed_at))
    sheet.letterhead("MANDAT SEPA", ["Prélèvement automatique", f"Signé le {signed_on}"])
    sheet.centre(105, 50, "MANDAT DE PRÉLÈVEMENT SEPA", size=15, bold=True, color=BLUE)
    sheet.centre(105, 56, "Prélèvement SEPA CORE — loyer et charges", size=9)
    debtor = Debtor.of(mandate, tenancy)
    y = _references(sheet, mandate, 61)
    y = _rights(sheet, sheet.office, y + 6)
    y = _parties(sheet, sheet.office, debtor, y + 6)
    y = _payment(sheet, mandate, debtor, y + 6)
    y = _signature(sheet, mandate, holder, tenancy, y + 6)
    _notes(sheet, y + 7)
    return sheet.finish()


def _references(sheet: Sheet, mandate: Mandate, top: float) -> float:
    office = sheet.office
    sheet.box(15, top, 180, 22, fill=GREY)
    rows = (
        ("Référence unique du mandat (RUM)", mandate.reference),
        ("Identifiant créancier SEPA (ICS)", office.creditor_identifier),
        ("Type de paiement", RECURRENT),
    )
    for index, (label, value) in enumerate(rows):
        y = top + 6.5 + index * 6
        sheet.text(19, y, f"{label} :", size=9.5)
        sheet.text(85, y, value, size=10.5, bold=True)
    return top + 22


def _rights(sheet: Sheet, office: Office, top: float) -> float:
    lines = sheet.wrap(rights_text(office.name.upper()), 172, size=9)
    height = len(lines) * 4.4 + 5
    sheet.box(15, top, 180, height)
    y = top + 5.5
    for line in lines:
        sheet.text(19, y, line, size=9)
        y += 4.4
    return top + height


def _column(sheet: Sheet, x: float, top: float, title: str, rows: list[tuple[str, str]]) -> float:
    """A titled box of label/value rows, 88 mm wide (the name and the IBAN in bold); returns
    where it ends."""
    sheet.box(x, top, 88, 8, fill=GREY)
    sheet.text(x + 3, top + 5.5, title, size=9.5, bold=True)
    y = top + 14
    for label, value in rows:
        sheet.text(x + 3, y, label, size=7.5, color=(0.35, 0.35, 0.35))
        bold = label == "Nom" or label.startswith("IBAN")
        for line in sheet.wrap(value, 82, size=9.5, bold=bold)[:2]:
            sheet.text(x + 3, y + 4.3, line, size=9.5, bold=bold)
            y += 4.3
        y += 5.2
    return y


def _parties(sheet: Sheet, office: Office, debtor: Debtor, top: float) -> float:
    debtor_rows = [
        ("Nom", debtor.name),
        ("Adresse", debtor.address_line1),
        ("Code postal, ville, pays", f"{debtor.town}, France".strip(", ")),
        ("IBAN (masqué pour votre sécurité)", debtor.iban_masked),
    ]
    creditor_rows = [
        ("Nom", office.name),
        ("Adresse", office.address_line1),
        ("Code postal, ville, pays", f"{office.town}, France".strip(", ")),
        ("Identifiant créancier SEPA (ICS)", office.creditor_identifier),
    ]
    end = max(
        _column(sheet, 15, top, "Débiteur (titulaire du compte à débiter)", debtor_rows),
        _column(sheet, 107, top, "Créancier", creditor_rows),
    )
    height = end - top - 2
    sheet.box(15, top, 88, height)
    sheet.box(107, top, 88, height)
    return top + height


def _payment(sheet: Sheet, mandate: Mandate, debtor: Debtor, top: float) -> float:
    contract = f", contrat N° {debtor.contract_number}" if debtor.contract_number else ""
    rows = (
        ("Date de prélèvement", debit_day_text(mandate.debit_day)),
        ("Objet", f"loyer et charges du logement — N° intitulé {debtor.tenant_number}{contract}"),
    )
    for index, (label, value) in enumerate(rows):
        y = top + 4 + index * 5.5
        sheet.text(15, y, f"{label} :", size=9, bold=True)
        sheet.text(55, y, value, size=9)
    return top + 4 + len(rows) * 5.5 - 3


def _signature(sheet: Sheet, mandate: Mandate, holder: Holder | None, tenancy: Tenancy | None, top: float) -> float:
    signer = holder.full_name if holder is not None else mandate.account_holder
    paris_day = paris_date(mandate.signed_at)
    statement = (
        f"électronique — mandat accepté par {signer} dans l'application {APP_NAME}, "
        "avec confirmation de son mot de passe."
    )
    lines = sheet.wrap(statement, 146, size=9)[:2]
    height = 12.5 + len(lines) * 4.3 + 1.5
    sheet.box(15, top, 180, height, fill=GREY)
    sheet.text(19, top + 6, "Signé à :", size=9)
    sheet.text(45, top + 6, signature_place(tenancy), size=9.5, bold=True)
    sheet.text(100, top + 6, "Le :", size=9)
    when = f"{date_long_fr(paris_day)} à {time_fr(mandate.signed_at)} (heure de Paris)"
    sheet.text(110, top + 6, when, size=9.5, bold=True)
    sheet.text(19, top + 12.5, "Signature :", size=9)
    y = top + 12.5
    for line in lines:
        sheet.text(45, y, line, size=9)
        y += 4.3
    return top + height


def _notes(sheet: Sheet, top: float) -> None:
    notes = (
        RIGHTS_NOTE,
        "Pour votre sécurité, l'IBAN est masqué sur ce document : l'Office le conserve chiffré et ne le transmet "
        "qu'à sa banque pour les prélèvements.",
        "Vous pouvez révoquer ce mandat à tout moment dans l'application (Prélèvement automatique). Pour changer de "
        "compte, révoquez-le puis signez-en un nouveau une fois la révocation prise en compte par l'Office.",
        "Ce document est votre exemplaire du mandat : conservez-le.",
    )
    y = top
    for note in notes:
        for line in sheet.wrap(note, 180, size=8):
            sheet.text(15, y, line, size=8)
            y += 3.8
        y += 1.2
