"""Security revision 4: every PDF a sandbox stage produces says it is a test document.

"DOCUMENT DE TEST — SANS VALEUR" is drawn across each page of every kind (avis, quittance,
reçu, reçu de paiement, relevé de compte) when the payment gateway is the sandbox, and never
otherwise. pdftotext without ``-nodiag`` reads the diagonal stamp back.
"""

from __future__ import annotations

import subprocess

import pytest

from oph.documents.notice_pdf import render_notice
from oph.payments.quittance_pdf import render_quittance
from oph.payments.receipt_pdf import render_receipt
from oph.payments.settlement import PAID, Settlement
from oph.platform.settings import get_settings
from tests.unit.test_notice_pdf import HOLDERS, TENANCY, demo_notice, page_count
from tests.unit.test_receipts_pdf import NOTICE_DOC, SNAPSHOT, details, receipt


def _all_text(pdf: bytes) -> str:
    # -raw: in drawing order, so the diagonal stamp (drawn in one piece) reads back whole
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def _documents() -> list[bytes]:
    many_lines = [(f"Ligne {i}", "charges", 100) for i in range(60)]  # a notice of two pages
    return [
        render_notice(demo_notice(), TENANCY, HOLDERS),
        render_notice(demo_notice(many_lines), TENANCY, HOLDERS),
        render_quittance(receipt("quittance", 22500), Settlement(NOTICE_DOC, 22500, 22500, PAID), SNAPSHOT),
        render_receipt(details()),
    ]


@pytest.fixture
def stage(monkeypatch):
    def use(provider: str) -> None:
        monkeypatch.setenv("PAYMENT_PROVIDER", provider)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_a_sandbox_stage_stamps_every_page_of_every_document(stage):
    stage("sandbox")
    for pdf in _documents():
        letters = "".join(_all_text(pdf).split())  # the rotated stamp reads back letter by letter
        assert letters.count("DOCUMENTDETEST—SANSVALEUR") == page_count(pdf) >= 1, letters[-200:]


def test_a_real_gateway_stage_never_stamps(stage):
    stage("systempay")
    for pdf in _documents():
        assert "DOCUMENTDETEST" not in "".join(_all_text(pdf).split())
