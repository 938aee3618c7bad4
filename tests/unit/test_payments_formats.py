"""Pure helpers of the payments module: French amounts and dates, the receipt PDF."""

from __future__ import annotations

import subprocess

import pytest

from oph.payments.receipt_pdf import ReceiptDetails, render_receipt
from oph.platform.clock import paris_date
from oph.platform.french import date_long_fr, euros


@pytest.mark.parametrize(
    ("cents", "text"),
    [(22000, "220,00 €"), (100, "1,00 €"), (5, "0,05 €"), (100000000, "1 000 000,00 €"), (-1250, "-12,50 €")],
)
def test_format_euros(cents, text):
    assert euros(cents) == text


def test_paris_day_of_a_utc_instant():
    assert paris_date("2024-06-12T22:30:00Z") == "2024-06-13"  # summer: UTC+2
    assert paris_date("2024-01-12T22:30:00Z") == "2024-01-12"  # winter: UTC+1
    assert paris_date("2024-01-12T23:30:00Z") == "2024-01-13"


def test_french_date():
    assert date_long_fr("2019-06-10") == "10 juin 2019"
    assert date_long_fr("2024-08-01") == "1er août 2024"


def _details(**overrides):
    values = {
        "payment_id": "0123456789abcdef0123456789abcdef",
        "tenant_number": "123456",
        "holder_name": "Jean DUPOND",
        "amount": "220,00 €",
        "paid_on": "12/06/2024",
        "paid_time": "14:03",
        "trans_id": "000042",
        "trans_date": "20240612120304",
        "issued_on": "12 juin 2024",
        "contract_number": "0123456-01",
        "address_lines": ["10 Rue Hémet", "93300 AUBERVILLIERS"],
    }
    values.update(overrides)
    return ReceiptDetails(**values)


def test_receipt_pdf_is_deterministic_and_a_pdf():
    first = render_receipt(_details())
    assert first.startswith(b"%PDF-")
    assert render_receipt(_details()) == first
    assert render_receipt(_details(amount="221,00 €")) != first


def test_receipt_pdf_text(tmp_path):
    path = tmp_path / "recu.pdf"
    path.write_bytes(render_receipt(_details()))
    text = subprocess.run(["pdftotext", "-nodiag", str(path), "-"], capture_output=True, check=True, text=True).stdout
    for expected in (
        "REÇU DE PAIEMENT",
        "220,00 €",
        "123456",
        "Jean DUPOND",
        "12/06/2024 à 14 h 03",
        "123456-20240612-000042",
        "000042",
        "ne vaut pas quittance",
    ):
        assert expected in text
