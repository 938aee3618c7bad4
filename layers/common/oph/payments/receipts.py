"""Quittances and reçus on demand (``POST /v1/documents/receipts``, contract section 5).

A *quittance* (rent receipt, loi du 6 juillet 1989, art. 21) acknowledges that a period is
fully paid and shows rent and charges separately; a *reçu* acknowledges a partial payment and
shows the amounts actually paid.

What is paid (contract section 5, "What is paid"): the notices of a tenancy are settled
oldest first. A notice is fully paid when the latest imported balance, dated on or after the
notice's issue date, is zero or in credit. Otherwise the succeeded online payments made after
that balance date (a payment made on the balance date itself is taken as already in the
balance; dates are compared in Paris time) are allocated to the other notices, oldest first:
fully paid when the allocation reaches the amount due, partially paid when it is above zero.

Receipt ids are derived from (tenancy, period, kind, amount): asking again in the same state
returns the same document (200); once the period is fully paid a quittance is made (201), the
earlier reçu stays listed. A partial payment that grew makes a new reçu showing the new amount.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from oph.accounts.model import Account
from oph.documents.model import NOTICE, RECEIPT, Document, DocumentRepository, tenant_prefix
from oph.platform import aws, clock
from oph.platform.aws import dynamo
from oph.platform.errors import NotFound, ValidationFailed
from oph.platform.french import date_fr, date_long_fr, euros, period_label
from oph.platform.mail import Attachment, compose, get_mailer
from oph.platform.observability import count, get_logger
from oph.platform.settings import get_settings
from oph.tenancy.model import Holder
from oph.tenancy.store import tenancy_pk

PAID, PARTIAL, UNPAID = "paid", "partial", "unpaid"
QUITTANCE, RECU = "quittance", "recu"
SUCCEEDED = "succeeded"
_NAMESPACE = uuid.UUID("0d3c7b52-9a51-4a8e-8d4c-6e2f7c1b5a90")


@dataclass(frozen=True)
class Payment:
    payment_id: str
    amount_cents: int
    status: str
    paid_at: str | None  # instant YYYY-MM-DDTHH:MM:SSZ
    created_at: str = ""


@dataclass(frozen=True)
class Settlement:
    notice: Document
    due_cents: int
    paid_cents: int
    state: str  # paid | partial | unpaid
    by_balance: bool = False


def paris_date(instant: str) -> str:
    """The Paris calendar date of a UTC instant (``YYYY-MM-DDTHH:MM:SSZ``)."""
    from datetime import datetime

    try:
        moment = datetime.strptime(instant[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return instant[:10]
    try:
        from datetime import UTC
        from zoneinfo import ZoneInfo

        return moment.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    except Exception:  # no time zone database: UTC is off by at most a couple of hours
        return moment.date().isoformat()


def today_in_paris() -> str:
    return paris_date(clock.iso_instant())


def settle(
    notices: list[Document], balance_cents: int | None, balance_date: str | None, payments: list[Payment]
) -> dict[str, Settlement]:
    """The paid state of every notice, by period (the contract's "What is paid" rule)."""
    pool = sum(
        p.amount_cents
        for p in payments
        if p.status == SUCCEEDED
        and (balance_date is None or paris_date(p.paid_at or p.created_at or "0000-00-00") > balance_date)
    )
    result: dict[str, Settlement] = {}
    for notice in sorted(notices, key=lambda d: (d.issued_on, d.period or "")):
        due = max(0, int(notice.amount_due_cents or 0))
        if (
            balance_date is not None
            and balance_cents is not None
            and balance_date >= notice.issued_on
            and balance_cents <= 0
        ):
            result[str(notice.period)] = Settlement(notice, due, due, PAID, by_balance=True)
            continue
        allocated = min(pool, due)
        pool -= allocated
        state = PAID if allocated >= due else PARTIAL if allocated > 0 else UNPAID
        result[str(notice.period)] = Settlement(notice, due, allocated, state)
    return result


# ------------------------------------------------------------------ reading a tenancy at once
@dataclass
class TenancySnapshot:
    tenant_number: str
    tenancy: dict[str, Any]
    holders: list[Holder]
    documents: dict[str, Document]  # by doc id
    payments: list[Payment]

    @property
    def notices(self) -> list[Document]:
        return [d for d in self.documents.values() if d.type == NOTICE]


def load_snapshot(tenant_number: str) -> TenancySnapshot:
    """One query over the tenancy's partition: tenancy, holders, documents and payments."""
    table = get_settings().tenants_table
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": tenancy_pk(tenant_number)}},
        "ConsistentRead": True,
    }
    snapshot = TenancySnapshot(tenant_number, {}, [], {}, [])
    for item in dynamo.query_all(**kwargs):
        _classify(snapshot, item)
    return snapshot


def _classify(snapshot: TenancySnapshot, item: dict[str, Any]) -> None:
    sk = str(item["sk"]["S"])
    if sk == "TENANCY":
        snapshot.tenancy = dynamo.from_item(item)
    elif sk.startswith("HOLDER#"):
        v = dynamo.from_item(item)
        snapshot.holders.append(
            Holder(
                str(v.get("tenant_number", "")),
                str(v.get("last_name", "")),
                str(v.get("first_name", "")),
                str(v.get("birth_date", "")),
            )
        )
    elif sk.startswith("DOC#"):
        document = Document.from_item(item)
        snapshot.documents[document.doc_id] = document
    elif sk.startswith("PAYMENT#"):
        v = dynamo.from_item(item)
        try:
            snapshot.payments.append(
                Payment(
                    payment_id=str(v.get("payment_id") or sk.removeprefix("PAYMENT#")),
                    amount_cents=int(v.get("amount_cents") or 0),
                    status=str(v.get("status") or ""),
                    paid_at=str(v["paid_at"]) if v.get("paid_at") else None,
                    created_at=str(v.get("created_at") or ""),
                )
            )
        except (TypeError, ValueError):
            get_logger().warning("unreadable payment item skipped")


# ------------------------------------------------------------------ the use case
def receipt_doc_id(tenant_number: str, period: str, kind: str, amount_cents: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"receipt|{tenancy_pk(tenant_number)}|{period}|{kind}|{amount_cents}"))


def receipt_title(kind: str, period: str) -> str:
    label = period_label(period)
    return f"Quittance de loyer — {label}" if kind == QUITTANCE else f"Reçu — {label}"


def create_receipt(tenant_number: str, period: str, account: Account | None = None) -> tuple[Document, bool]:
    """The quittance (fully paid) or reçu (partially paid) of a period; (document, created)."""
    snapshot = load_snapshot(tenant_number)
    balance = snapshot.tenancy.get("balance_cents")
    settlements = settle(
        snapshot.notices,
        int(balance) if balance is not None else None,
        snapshot.tenancy.get("balance_date") or None,
        snapshot.payments,
    )
    settlement = settlements.get(period)
    if settlement is None:
        raise NotFound("Aucun avis d'échéance pour cette période.")
    if settlement.state == UNPAID:
        raise ValidationFailed.single("period", "period_unpaid")
    kind = QUITTANCE if settlement.state == PAID else RECU
    amount = settlement.due_cents if kind == QUITTANCE else settlement.paid_cents
    doc_id = receipt_doc_id(tenant_number, period, kind, amount)
    existing = snapshot.documents.get(doc_id)
    if existing is not None:
        return existing, False

    issued_on = today_in_paris()
    number = snapshot.tenancy.get("tenant_number") or tenant_number
    document = Document(
        doc_id=doc_id,
        tenant_number=str(number),
        type=RECEIPT,
        title=receipt_title(kind, period),
        issued_on=issued_on,
        s3_key=f"{tenant_prefix(str(number))}receipts/{kind}-{period}-{doc_id[:8]}.pdf",
        filename=f"{'quittance' if kind == QUITTANCE else 'recu'}-{period}.pdf",
        period=period,
        amount_cents=amount,
        created_at=clock.iso_instant(),
        extra={
            "kind": kind,
            "notice_id": settlement.notice.doc_id,
            "due_cents": settlement.due_cents,
            "paid_cents": settlement.paid_cents,
        },
    )
    pdf = render_receipt(document, settlement, snapshot)
    with aws.unavailable_on_failure():
        aws.s3().put_object(
            Bucket=get_settings().documents_bucket,
            Key=document.s3_key,
            Body=pdf,
            ContentType="application/pdf",
            ContentDisposition=f'attachment; filename="{document.filename}"',
        )
    repository = DocumentRepository()
    if not repository.put(document, only_if_new=True):  # asked twice at the same time
        return repository.get(tenant_number, doc_id) or document, False
    count("QuittancesCreated" if kind == QUITTANCE else "RecusCreated")
    if kind == QUITTANCE and account is not None and (account.preferences or {}).get("receipts_by_email"):
        _email_quittance(document, pdf, account)
    return document, True


def _email_quittance(document: Document, pdf: bytes, account: Account) -> None:
    label = period_label(str(document.period))
    name = f"{account.first_name} {account.last_name}".strip()
    email = compose(
        f"Votre quittance de loyer de {label}",
        [
            f"Bonjour {name}," if name else "Bonjour,",
            f"Vous trouverez ci-joint votre quittance de loyer de {label}, d'un montant de "
            f"{euros(int(document.amount_cents or 0))}.",
            "Elle reste disponible dans l'application Mon espace locataire, rubrique « Mes documents ».",
            "Vous recevez vos quittances par e-mail parce que vous l'avez demandé ; vous pouvez changer ce choix "
            "à tout moment dans vos préférences.",
        ],
        to=account.email,
        attachments=[Attachment(document.filename, "application/pdf", pdf)],
    )
    try:
        get_mailer().send(email)
        count("QuittanceEmailsSent")
    except Exception as exc:  # the quittance exists and is listed; the e-mail is a convenience
        get_logger().warning("quittance e-mail not sent", extra={"error": type(exc).__name__})


# ------------------------------------------------------------------ the PDF
def _sum(lines: list[dict[str, Any]], category: str) -> int:
    return sum(int(line.get("amount_cents", 0)) for line in lines if line.get("category") == category)


def _period_bounds(period: str) -> tuple[str, str]:
    import calendar

    year, month = (int(p) for p in period.split("-"))
    last = calendar.monthrange(year, month)[1]
    return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"


def render_receipt(document: Document, settlement: Settlement, snapshot: TenancySnapshot) -> bytes:
    from oph.documents.notice_pdf import OFFICE_ADDRESS, OFFICE_NAME, Addressee, Sheet, _address_window, _references

    kind = (document.extra or {}).get("kind", QUITTANCE)
    period = str(document.period)
    notice = settlement.notice
    lines = list((notice.extra or {}).get("lines") or [])
    addressee = Addressee.of(snapshot.tenancy, snapshot.holders)
    start, end = _period_bounds(period)
    heading = "QUITTANCE DE LOYER" if kind == QUITTANCE else "REÇU"
    sheet = Sheet(f"{'Quittance de loyer' if kind == QUITTANCE else 'Reçu'} {period_label(period)}")
    sheet.letterhead(
        heading, [f"Période : {period_label(period, capitalize=True)}", f"Date : {date_fr(document.issued_on)}"]
    )
    _references(sheet, document.tenant_number, addressee)
    _address_window(sheet, addressee)

    top = 88.0
    sheet.text(15, top, "Bailleur :", size=9, bold=True)
    sheet.text(50, top, f"{OFFICE_NAME}, {OFFICE_ADDRESS}", size=8.5)
    sheet.text(15, top + 6, "Locataire(s) :", size=9, bold=True)
    sheet.text(50, top + 6, ", ".join(addressee.names), size=9)
    sheet.text(15, top + 12, "Logement loué :", size=9, bold=True)
    sheet.text(50, top + 12, f"{addressee.address_line1}, {addressee.town}".strip(", "), size=9)
    sheet.text(15, top + 18, "Période :", size=9, bold=True)
    sheet.text(50, top + 18, f"du {date_long_fr(start)} au {date_long_fr(end)}", size=9)

    # Rent and charges shown separately (loi du 6 juillet 1989, art. 21).
    rent, charges, aid, other = (_sum(lines, c) for c in ("rent", "charges", "aid", "other"))
    rows: list[tuple[str, int]] = [("Loyer (hors charges)", rent), ("Provisions pour charges", charges)]
    if other:
        rows.append(("Autres sommes", other))
    if aid:
        rows.append(("Aide au logement (APL) versée à l'Office, déduite", aid))
    top = 118.0
    sheet.box(15, top, 180, 8, fill=(0.93, 0.94, 0.96))
    sheet.text(18, top + 5.5, f"DÉTAIL — {period_label(period).upper()}", size=9, bold=True)
    sheet.right(192, top + 5.5, "Montant", size=9, bold=True)
    y = top + 14
    for label, cents in rows:
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

    y += 20
    names = " et ".join(addressee.names) or "le locataire"
    paid = euros(int(document.amount_cents or 0))
    if kind == QUITTANCE:
        statement = (
            f"L'Office Public de l'Habitat d'Aubervilliers, bailleur, déclare avoir reçu de {names} la somme de "
            f"{paid} au titre du loyer et des charges du logement ci-dessus pour la période du {date_long_fr(start)} "
            f"au {date_long_fr(end)}, et lui en donne quittance, sous réserve de tous ses droits. "
            "Cette quittance solde la période indiquée."
        )
    else:
        statement = (
            f"L'Office Public de l'Habitat d'Aubervilliers, bailleur, déclare avoir reçu de {names} la somme de "
            f"{paid} en paiement partiel de l'avis d'échéance de {period_label(period)} (montant dû : "
            f"{euros(settlement.due_cents)}). Ce reçu ne vaut pas quittance : il reste "
            f"{euros(settlement.due_cents - int(document.amount_cents or 0))} à payer pour cette période."
        )
    y = sheet.paragraph(15, y, statement, 180, size=9.5) + 10
    sheet.text(120, y, f"Fait à Aubervilliers, le {date_long_fr(document.issued_on)}", size=9.5)
    sheet.text(120, y + 6, "Pour l'Office, le service Gestion locative", size=8.5)
    sheet.centre(105, 287, f"{OFFICE_NAME} — {OFFICE_ADDRESS}", size=6.5)
    return sheet.finish()
