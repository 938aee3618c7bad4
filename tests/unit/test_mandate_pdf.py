"""The SEPA mandate PDF (contract section 8) read back with pdftotext, and the ``mandate``
document made of it (section 5): what a SEPA core mandate must carry, the IBAN masked, Paris
time, the office's configured details, the test stamp."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest

from oph.documents.model import MANDATE, tenant_prefix
from oph.payments.mandate import PENDING, Mandate
from oph.payments.mandate_document import mandate_doc_id, mandate_document, mandate_filename, mandate_title
from oph.payments.mandate_pdf import render_mandate, rights_text
from oph.platform.office import get_office
from oph.platform.settings import get_settings
from oph.tenancy.model import Holder, Tenancy
from tests.unit.test_notice_pdf import page_count, pdf_text

FULL_IBAN = "FR7630006000011234567890189"
MANDATE_DEMO = Mandate(
    tenant_number="123456",
    reference="OPH-123456-0001",
    sequence=1,
    status=PENDING,
    account_holder="DUPOND Jean",
    iban_masked="FR76 **** **** **** **** ***0 189",
    debit_day=5,
    signed_at="2019-05-28T12:05:00Z",
    signed_by="account-1",
    document_id=None,
    iban_ciphertext="Y2lwaGVydGV4dA==",
)
TENANCY = Tenancy("123456", "0123456-01", "T0098765", "10 Rue Hémet", "93300", "AUBERVILLIERS")
HOLDER = Holder("123456", "DUPOND", "Jean", "1975-09-10")


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def stage(monkeypatch):
    def use(provider: str) -> None:
        monkeypatch.setenv("PAYMENT_PROVIDER", provider)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_the_mandate_carries_what_a_sepa_core_mandate_must():
    text = pdf_text(render_mandate(MANDATE_DEMO, HOLDER, TENANCY))
    words = flat(text)
    office = get_office()
    assert "MANDAT DE PRÉLÈVEMENT SEPA" in text
    assert "Référence unique du mandat (RUM) : OPH-123456-0001" in words
    assert f"Identifiant créancier SEPA (ICS) : {office.creditor_identifier}" in words
    assert "Type de paiement : paiement récurrent" in words
    # the creditor, from the office's configuration
    assert office.name in text and office.address_line1 in text and f"{office.town}, France" in text
    # the debtor: the name as signed, the tenancy's address, the IBAN (masked)
    assert "DUPOND Jean" in text and "10 Rue Hémet" in text and "93300 AUBERVILLIERS, France" in text
    assert "FR76 **** **** **** **** ***0 189" in text
    # the date and place of signature (Paris time), who signed in the app
    assert "Signé à : AUBERVILLIERS" in words
    assert "28 mai 2019 à 14 h 05 (heure de Paris)" in words
    assert "mandat accepté par DUPOND Jean dans l'application Mon espace locataire" in words
    # the debit day and what is debited
    assert "Date de prélèvement : le 5 de chaque mois (ou le jour ouvré suivant)" in words
    assert "N° intitulé 123456, contrat N° 0123456-01" in words
    assert page_count(render_mandate(MANDATE_DEMO, HOLDER, TENANCY)) == 1


def test_the_standard_text_on_the_debtors_rights_is_there_word_for_word():
    words = flat(pdf_text(render_mandate(MANDATE_DEMO, HOLDER, TENANCY)))
    creditor = get_office().name.upper()
    standard = rights_text(creditor)
    assert standard.startswith(f"En signant ce formulaire de mandat, vous autorisez {creditor} à envoyer")
    assert "dans les 8 semaines suivant la date de débit de votre compte pour un prélèvement autorisé." in standard
    assert standard in words
    assert "Vos droits concernant le présent mandat sont expliqués dans un document" in words


def test_the_full_iban_is_never_printed():
    pdf = render_mandate(MANDATE_DEMO, HOLDER, TENANCY)
    letters = "".join(pdf_text(pdf).split())
    assert FULL_IBAN not in letters and "30006000011234567890" not in letters
    assert b"Y2lwaGVydGV4dA" not in pdf  # nor the ciphertext
    assert "l'IBAN est masqué sur ce document" in flat(pdf_text(pdf))


@pytest.mark.parametrize(
    ("signed_at", "issued_on", "shown"),
    [
        ("2019-05-28T21:59:59Z", "2019-05-28", "28 mai 2019 à 23 h 59"),  # summer: UTC+2
        ("2019-05-28T22:00:00Z", "2019-05-29", "29 mai 2019 à 0 h 00"),
        ("2019-12-31T23:30:00Z", "2020-01-01", "1er janvier 2020 à 0 h 30"),  # winter: UTC+1
    ],
)
def test_dates_are_paris_time_and_the_document_is_of_the_paris_day(signed_at, issued_on, shown):
    mandate = replace(MANDATE_DEMO, signed_at=signed_at)
    document, pdf = mandate_document(mandate, HOLDER, TENANCY)
    assert document.issued_on == issued_on
    assert shown in flat(pdf_text(pdf))


def test_the_office_details_come_from_the_configuration(monkeypatch):
    monkeypatch.setenv("CREDITOR_IDENTIFIER", "FR12ZZZ123456")
    monkeypatch.setenv("OFFICE_ADDRESS", "1 place de la Mairie, 93300 Aubervilliers")
    get_office.cache_clear()
    try:
        words = flat(pdf_text(render_mandate(MANDATE_DEMO, HOLDER, TENANCY)))
    finally:
        monkeypatch.undo()
        get_office.cache_clear()
    assert "Identifiant créancier SEPA (ICS) : FR12ZZZ123456" in words
    assert "1 place de la Mairie" in words


def test_another_signer_a_long_name_and_no_known_address_still_make_a_mandate():
    mandate = replace(MANDATE_DEMO, account_holder="DUPOND-MARTIN DE LA FONTAINE Jean-Christophe Marie", debit_day=15)
    marie = Holder("123456", "DUPOND", "Marie", "1977-01-02")
    text = pdf_text(render_mandate(mandate, marie, None))
    words = flat(text)
    assert "DUPOND-MARTIN DE LA FONTAINE" in text and "Jean-Christophe Marie" in text  # wrapped in its column
    assert "mandat accepté par DUPOND Marie" in words
    assert "Signé à : en ligne" in words
    assert "le 15 de chaque mois" in words
    words = flat(pdf_text(render_mandate(mandate, None, TENANCY)))
    assert "mandat accepté par DUPOND-MARTIN DE LA FONTAINE Jean-Christophe Marie" in words


def test_the_pdf_is_deterministic():
    assert render_mandate(MANDATE_DEMO, HOLDER, TENANCY) == render_mandate(MANDATE_DEMO, HOLDER, TENANCY)


def _all_text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_a_sandbox_stage_stamps_the_mandate_and_a_real_one_does_not(stage):
    stage("sandbox")
    assert "DOCUMENTDETEST—SANSVALEUR" in "".join(_all_text(render_mandate(MANDATE_DEMO, HOLDER, TENANCY)).split())
    stage("systempay")
    assert "DOCUMENTDETEST" not in "".join(_all_text(render_mandate(MANDATE_DEMO, HOLDER, TENANCY)).split())


def test_the_mandate_document_is_listed_as_a_mandate_under_the_tenants_prefix():
    document, pdf = mandate_document(MANDATE_DEMO, HOLDER, TENANCY)
    assert pdf.startswith(b"%PDF-")
    assert document.type == MANDATE
    assert document.title == mandate_title("OPH-123456-0001") == "Mandat de prélèvement SEPA — OPH-123456-0001"
    assert document.filename == mandate_filename("OPH-123456-0001") == "mandat-sepa-OPH-123456-0001.pdf"
    assert document.s3_key.startswith(tenant_prefix("123456")) and document.s3_key.endswith(document.filename)
    assert document.under_prefix_of("123456") and not document.under_prefix_of("654321")
    assert document.doc_id == mandate_doc_id("123456", "OPH-123456-0001")
    assert document.as_api() == {
        "id": document.doc_id,
        "type": "mandate",
        "title": "Mandat de prélèvement SEPA — OPH-123456-0001",
        "issued_on": "2019-05-28",
        "period": None,
    }
    # the same mandate gives the same document (a retried signature stores the same item)
    assert mandate_document(MANDATE_DEMO, HOLDER, TENANCY)[0] == document
    # another mandate of the tenancy, another document; a named document id is kept
    assert mandate_doc_id("123456", "OPH-123456-0002") != document.doc_id
    named = mandate_document(replace(MANDATE_DEMO, document_id="doc-42"), HOLDER, TENANCY)[0]
    assert named.doc_id == "doc-42"
    assert mandate_doc_id(" 00123456", "OPH-123456-0001") == document.doc_id
