"""The avis d'échéance PDF, read back with poppler's pdftotext (independent of reportlab)."""

from __future__ import annotations

import subprocess

from oph.documents.model import NOTICE, Document
from oph.documents.notice_pdf import render_notice
from oph.tenancy.model import Holder, Tenancy

LINES = [
    ("Loyer", "rent", 17503),
    ("Provisions charges générales LG", "charges", 776),
    ("Provisions charges générales SH", "charges", 1472),
    ("Provisions chauffage", "charges", 1955),
    ("Divers appareils chauffage", "charges", 294),
]


def demo_notice(**extra: object) -> Document:
    return Document(
        doc_id="d1",
        tenant_number="123456",
        type=NOTICE,
        title="Avis d'échéance — mai 2019",
        issued_on="2019-05-24",
        s3_key="tenants/123456/notices/avis-echeance-2019-05.pdf",
        filename="avis-echeance-2019-05.pdf",
        period="2019-05",
        due_date="2019-06-10",
        amount_due_cents=sum(amount for _, _, amount in LINES),
        extra={
            "lines": [{"label": label, "category": cat, "amount_cents": amount} for label, cat, amount in LINES],
            "balance_cents": 61068,
            "balance_date": "2019-05-23",
            **extra,
        },
    )


TENANCY = Tenancy("123456", "0123456-01", "T0098765", "10 Rue Hémet", "93300", "AUBERVILLIERS")
HOLDERS = [Holder("123456", "DUPOND", "Jean", "1975-09-10")]


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_demo_notice_reads_like_the_paper_notice():
    text = pdf_text(render_notice(demo_notice(), TENANCY, HOLDERS))
    for expected in (
        "OFFICE PUBLIC DE L'HABITAT D'AUBERVILLIERS",
        "AVIS D'ÉCHÉANCE",
        "Période : Mai 2019",
        "N° intitulé :",
        "123456",
        "N° contrat :",
        "0123456-01",
        "N° tiers :",
        "T0098765",
        "Interlocuteur :",
        "Adresse de la location :",
        "10 Rue Hémet, 93300 AUBERVILLIERS",
        "DUPOND Jean",
        "Date limite de paiement :",
        "10/06/2019",
        "Solde au 23/05/2019 :",
        "610,68 €",
    ):
        assert expected in text, expected
    for label, _, amount in LINES:
        line = next(row for row in text.splitlines() if label in row)
        assert line.rstrip().endswith(f"{amount // 100},{amount % 100:02d} €"), line
    total = next(row for row in text.splitlines() if "TOTAL DE L'ÉCHÉANCE" in row)
    assert total.rstrip().endswith("220,00 €")


def test_thousands_and_negative_aid_lines():
    document = demo_notice(
        lines=[
            {"label": "Loyer", "category": "rent", "amount_cents": 123456},
            {"label": "APL", "category": "aid", "amount_cents": -25000},
        ],
        balance_cents=-1500,
    )
    document.amount_due_cents = 98456
    text = pdf_text(render_notice(document, TENANCY, HOLDERS))
    assert "1 234,56 €" in text
    assert "-250,00 €" in text
    assert "984,56 €" in text
    assert "-15,00 €" in text and "en votre faveur" in text


def test_rendering_is_deterministic_and_co_holders_are_named():
    holders = [*HOLDERS, Holder("123456", "DUPOND", "Marie", "1977-01-02")]
    first = render_notice(demo_notice(), TENANCY, holders)
    assert first == render_notice(demo_notice(), TENANCY, holders)
    text = pdf_text(first)
    assert "DUPOND Jean" in text and "DUPOND Marie" in text


def test_no_pdf_library_is_needed_to_list_documents():
    code = (
        "import sys; sys.path[:0] = ['layers/common', '.']; import oph.documents.library, oph.documents.model, oph.payments.receipts; "
        "import functions.notices.app; "
        "assert 'reportlab' not in sys.modules, 'reportlab imported by the listing path'"
    )
    import sys

    subprocess.run(
        [sys.executable, "-c", code], check=True, env={"AWS_DEFAULT_REGION": "eu-west-3", "PATH": "/usr/bin"}
    )
