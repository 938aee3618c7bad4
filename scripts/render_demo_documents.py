"""Render the demo tenant's documents as PDFs and PNGs, to look at them (docs/*-demo.png).

    .venv/bin/python scripts/render_demo_documents.py [out dir]   (default: docs/)

The avis d'échéance is the seed's sample (devserver/seed_data: the office's own labels and
amounts, contract section 7), rendered as the import would; the quittance is May 2019's once
the 830,68 € net à payer is paid; the reçu de paiement is a 220,00 € card payment; the relevé
de compte covers 01/01/2019-31/05/2019 with the demo movements (devserver/seed_data/
movements-*.csv when present, else a few months of rent, APL and transfers that explain the
610,68 €); the mandat de prélèvement SEPA is the one DUPOND Jean signs in the app on
28/05/2019 at 14 h 05, debit on the 5th (the contract's example IBAN, masked). PNGs need pdftoppm (poppler-utils, scripts/system-deps.sh), at 80 dpi.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]

from oph.documents.model import NOTICE, RECEIPT, Document  # noqa: E402
from oph.documents.notice_pdf import render_notice  # noqa: E402
from oph.payments.iban import masked  # noqa: E402
from oph.payments.mandate import PENDING, Mandate  # noqa: E402
from oph.payments.mandate_document import mandate_document  # noqa: E402
from oph.payments.model import SUCCEEDED, Payment, TenancySnapshot  # noqa: E402
from oph.payments.position import position  # noqa: E402
from oph.payments.quittance_pdf import render_quittance  # noqa: E402
from oph.payments.receipt_pdf import ReceiptDetails, render_receipt  # noqa: E402
from oph.payments.settlement import PAID, Settlement  # noqa: E402
from oph.payments.statement import statement_of  # noqa: E402
from oph.payments.statement_pdf import render_statement  # noqa: E402
from oph.tenancy.model import Holder, Movement, Tenancy  # noqa: E402

SEED = ROOT / "devserver" / "seed_data"
# The demo tenant's account when the seed has no movements file: it explains the 610,68 € owed
# on 23/05/2019 (date; label; euros).
FALLBACK_MOVEMENTS = (
    ("2018-12-31", "Report à nouveau", "390,68"),
    *(
        row
        for month, name in (("01", "janvier"), ("02", "février"), ("03", "mars"))
        for row in (
            (f"2019-{month}-24", f"Échéance {name} 2019", "220,00"),
            (f"2019-{month}-28", f"APL {name} 2019", "-110,00"),
            (f"2019-{int(month) + 1:02d}-05", "Virement", "-110,00"),
        )
    ),
    ("2019-04-24", "Échéance avril 2019", "220,00"),
    ("2019-04-29", "APL avril 2019", "-110,00"),
    ("2019-05-15", "Régularisation de charges 2018", "110,00"),
)
DEMO_PAYMENT = Payment(
    payment_id="4f1c9a7be2d84c0e9b3a5d6f7e8c9b0a",
    tenant_number="123456",
    amount_cents=22000,
    status=SUCCEEDED,
    paid_at="2019-05-28T12:05:00Z",
    trans_id="000001",
    trans_date="20190528120342",
    trans_uuid="8a7c2f0e4b1d4c7a9e3f5b6d7c8e9f01",
)


def _cents(value: str) -> int:
    return round(float(value.replace(",", ".")) * 100)


def _iso(value: str) -> str:
    if "/" not in value:
        return value
    day, month, year = value.split("/")
    return f"{year}-{month}-{day}"


def _rows(name: str) -> list[dict[str, str]]:
    with open(SEED / name, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def demo_tenancy() -> tuple[Tenancy, list[Holder]]:
    row = _rows("tenants-demo.csv")[0]
    tenancy = Tenancy(
        row["tenant_number"],
        row["contract_number"],
        row["third_party_number"],
        row["address_line1"],
        row["postal_code"],
        row["city"],
        _cents(row["balance"]),
        _iso(row["balance_date"]),
    )
    return tenancy, [Holder(row["tenant_number"], row["last_name"], row["first_name"], _iso(row["birth_date"]))]


def demo_notice() -> Document:
    rows = _rows("notices-2019-05.csv")
    first = rows[0]
    lines: list[dict[str, Any]] = [
        {"label": r["label"], "category": r["category"], "amount_cents": _cents(r["amount"])} for r in rows
    ]
    number, period = first["tenant_number"], first["period"]
    return Document(
        doc_id="demo-notice",
        tenant_number=number,
        type=NOTICE,
        title="Avis d'échéance — mai 2019",
        issued_on=_iso(first["issue_date"]),
        s3_key=f"tenants/{number}/notices/avis-echeance-{period}.pdf",
        filename=f"avis-echeance-{period}.pdf",
        period=period,
        due_date=_iso(first["due_date"]),
        amount_due_cents=sum(line["amount_cents"] for line in lines),
        extra={"lines": lines, "balance_cents": _cents(first["balance"]), "balance_date": _iso(first["balance_date"])},
    )


def demo_quittance(notice: Document, tenancy: Tenancy, holders: list[Holder]) -> bytes:
    due = int(notice.amount_due_cents or 0)
    document = Document(
        doc_id="demo-quittance",
        tenant_number=notice.tenant_number,
        type=RECEIPT,
        title="Quittance de loyer — mai 2019",
        issued_on="2019-06-05",
        s3_key=f"tenants/{notice.tenant_number}/receipts/quittance-2019-05.pdf",
        filename="quittance-2019-05.pdf",
        period=notice.period,
        amount_cents=due,
        extra={"kind": "quittance"},
    )
    payment = Payment(payment_id="p", amount_cents=83068, status=SUCCEEDED, paid_at="2019-06-04T12:05:00Z")
    snapshot = TenancySnapshot(notice.tenant_number, tenancy, holders, {notice.doc_id: notice}, [payment])
    return render_quittance(document, Settlement(notice, due, due, PAID), snapshot)


def demo_movements(number: str) -> list[Movement]:
    files = sorted(SEED.glob("movements-*.csv"))
    if files:
        rows = [row for path in files for row in _rows(path.name) if row["tenant_number"] == number]
        return [Movement(number, _iso(r["date"]), r["label"], _cents(r["amount"]), r["reference"]) for r in rows]
    return [
        Movement(number, day, label, _cents(amount), f"M-{index:05d}")
        for index, (day, label, amount) in enumerate(FALLBACK_MOVEMENTS, start=88001)
    ]


def demo_statement(notice: Document, tenancy: Tenancy, holders: list[Holder]) -> bytes:
    """01/01/2019-31/05/2019, produced on 31/05/2019, after a 220,00 € card payment on 28/05."""
    number = notice.tenant_number
    snapshot = TenancySnapshot(
        number, tenancy, holders, {notice.doc_id: notice}, [DEMO_PAYMENT], movements=demo_movements(number)
    )
    found = statement_of(position(snapshot, today="2019-05-31"), "2019-01-01", "2019-05-31")
    return render_statement(found, tenancy, holders, tenant_number=number, produced_on="2019-05-31")


def demo_receipt(tenancy: Tenancy, holders: list[Holder]) -> bytes:
    holder = holders[0]
    return render_receipt(
        ReceiptDetails(
            payment_id=DEMO_PAYMENT.payment_id,
            tenant_number=tenancy.tenant_number,
            holder_name=f"{holder.first_name} {holder.last_name}",
            amount="220,00 €",
            paid_on="28/05/2019",
            paid_time="14:05",
            trans_id=DEMO_PAYMENT.trans_id,
            trans_date=DEMO_PAYMENT.trans_date,
            issued_on="28 mai 2019",
            contract_number=tenancy.contract_number,
            address_lines=[tenancy.address_line1, f"{tenancy.postal_code} {tenancy.city}"],
            trans_uuid=str(DEMO_PAYMENT.trans_uuid),
        )
    )


def demo_mandate(tenancy: Tenancy, holders: list[Holder]) -> bytes:
    holder = holders[0]
    mandate = Mandate(
        tenant_number=tenancy.tenant_number,
        reference=f"OPH-{tenancy.tenant_number}-0001",
        sequence=1,
        status=PENDING,
        account_holder=holder.full_name,
        iban_masked=masked("FR76 3000 6000 0112 3456 7890 189"),
        debit_day=5,
        signed_at="2019-05-28T12:05:00Z",
        signed_by="demo-account",
        document_id=None,
    )
    return mandate_document(mandate, holder, tenancy)[1]


def write(out: Path, name: str, pdf: bytes) -> None:
    (out / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-singlefile", str(out / f"{name}.pdf"), str(out / name)], check=True
    )
    (out / f"{name}.pdf").unlink()
    print(out / f"{name}.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    tenancy, holders = demo_tenancy()
    notice = demo_notice()
    write(out, "notice-demo", render_notice(notice, tenancy, holders))
    write(out, "quittance-demo", demo_quittance(notice, tenancy, holders))
    write(out, "receipt-demo", demo_receipt(tenancy, holders))
    write(out, "statement-demo", demo_statement(notice, tenancy, holders))
    write(out, "mandate-demo", demo_mandate(tenancy, holders))


if __name__ == "__main__":
    main()
