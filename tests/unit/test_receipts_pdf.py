"""Quittance and reçu PDFs: rent and charges shown separately, aid shown, the settling statement."""

from __future__ import annotations

from oph.documents.model import NOTICE, RECEIPT, Document
from oph.payments.model import TenancySnapshot
from oph.payments.quittance_pdf import render_quittance as render_receipt
from oph.payments.settlement import PAID, PARTIAL, Settlement
from oph.tenancy.model import Holder, Tenancy
from tests.unit.test_notice_pdf import pdf_text

LINES = [
    {"label": "Loyer", "category": "rent", "amount_cents": 40000},
    {"label": "Provisions charges", "category": "charges", "amount_cents": 6000},
    {"label": "Eau froide", "category": "charges", "amount_cents": 1500},
    {"label": "APL", "category": "aid", "amount_cents": -25000},
]
NOTICE_DOC = Document(
    doc_id="n",
    tenant_number="777",
    type=NOTICE,
    title="",
    issued_on="2024-02-24",
    s3_key="tenants/777/n.pdf",
    filename="",
    period="2024-02",
    due_date="2024-03-10",
    amount_due_cents=22500,
    extra={"lines": LINES},
)
SNAPSHOT = TenancySnapshot(
    "777",
    Tenancy(
        tenant_number="777",
        contract_number="C777",
        third_party_number="T777",
        address_line1="3 Rue du Port",
        postal_code="93300",
        city="AUBERVILLIERS",
    ),
    [Holder("777", "N'DIAYE", "Awa", "1990-01-01")],
    {},
    [],
)


def receipt(kind: str, amount: int) -> Document:
    return Document(
        doc_id="r",
        tenant_number="777",
        type=RECEIPT,
        title="",
        issued_on="2024-03-05",
        s3_key="tenants/777/r.pdf",
        filename="",
        period="2024-02",
        amount_cents=amount,
        extra={"kind": kind},
    )


def test_quittance_separates_rent_and_charges_and_settles_the_period():
    text = pdf_text(render_receipt(receipt("quittance", 22500), Settlement(NOTICE_DOC, 22500, 22500, PAID), SNAPSHOT))
    flat = " ".join(text.split())
    assert "QUITTANCE DE LOYER" in text
    assert "OFFICE PUBLIC DE L'HABITAT D'AUBERVILLIERS" in text
    assert "N'DIAYE Awa" in text
    assert "3 Rue du Port, 93300 AUBERVILLIERS" in text
    assert "du 1er février 2024 au 29 février 2024" in flat
    assert next(r for r in text.splitlines() if "Loyer (hors charges)" in r).rstrip().endswith("400,00 €")
    assert next(r for r in text.splitlines() if "Provisions pour charges" in r).rstrip().endswith("75,00 €")
    assert next(r for r in text.splitlines() if "Aide au logement (APL)" in r).rstrip().endswith("-250,00 €")
    assert next(r for r in text.splitlines() if "Montant payé" in r).rstrip().endswith("225,00 €")
    assert "la somme de 225,00 €" in flat
    assert "en donne quittance" in flat
    assert "Cette quittance solde la période indiquée." in flat
    assert "Fait à Aubervilliers, le 5 mars 2024" in flat


def test_recu_shows_the_amount_actually_paid_and_what_is_left():
    text = pdf_text(render_receipt(receipt("recu", 10000), Settlement(NOTICE_DOC, 22500, 10000, PARTIAL), SNAPSHOT))
    flat = " ".join(text.split())
    assert "REÇU" in text
    assert "QUITTANCE DE LOYER" not in text
    assert "la somme de 100,00 € en paiement partiel" in flat
    assert "Ce reçu ne vaut pas quittance" in flat
    assert next(r for r in text.splitlines() if "Reste à payer" in r).rstrip().endswith("125,00 €")
