"""Quittance, reçu and reçu de paiement PDFs, read back with poppler's pdftotext.

A quittance shows rent and charges separately, each line with the office's own label, every
aid (APL, RLS) on its own line; "leur en donne quittance" for co-holders. A reçu de paiement
shows a reference a tenant can read out on the phone, the gateway's transaction number and
the bank's reference, in Paris time.
"""

from __future__ import annotations

from oph.documents.model import NOTICE, RECEIPT, Document
from oph.payments.model import SUCCEEDED, Payment, TenancySnapshot
from oph.payments.quittance_pdf import holders_text, render_quittance
from oph.payments.receipt_pdf import ReceiptDetails, french_time, render_receipt
from oph.payments.references import payment_reference, reference_of
from oph.payments.settlement import PAID, PARTIAL, Settlement
from oph.platform.office import get_office
from oph.tenancy.model import Holder, Tenancy
from tests.unit.test_notice_pdf import pdf_text, row

LINES = [
    {"label": "Loyer Foyer", "category": "rent", "amount_cents": 40000},
    {"label": "Prov.Charges Générales LG", "category": "charges", "amount_cents": 6000},
    {"label": "Eau froide", "category": "charges", "amount_cents": 1500},
    {"label": "APL", "category": "aid", "amount_cents": -20000},
    {"label": "RLS", "category": "aid", "amount_cents": -5000},
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
TENANCY = Tenancy(
    tenant_number="777",
    contract_number="C777",
    third_party_number="T777",
    address_line1="3 Rue du Port",
    postal_code="93300",
    city="AUBERVILLIERS",
)
SNAPSHOT = TenancySnapshot("777", TENANCY, [Holder("777", "N'DIAYE", "Awa", "1990-01-01")], {}, [])


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


def quittance_text(snapshot: TenancySnapshot = SNAPSHOT) -> str:
    return pdf_text(render_quittance(receipt("quittance", 22500), Settlement(NOTICE_DOC, 22500, 22500, PAID), snapshot))


def test_quittance_separates_rent_and_charges_with_the_offices_labels():
    text = quittance_text()
    flat = " ".join(text.split())
    office = get_office()
    assert "QUITTANCE DE LOYER" in text
    assert office.name.upper().split()[0] in text  # the letterhead
    assert f"Bailleur : {office.name}, {office.postal_address}" in flat
    assert "N'DIAYE Awa" in text
    assert "3 Rue du Port, 93300 AUBERVILLIERS" in text
    assert "du 1er février 2024 au 29 février 2024" in flat
    assert row(text, "Loyer (hors charges)").rstrip().endswith("400,00 €")
    assert row(text, "Loyer Foyer").rstrip().endswith("400,00 €")
    assert row(text, "Provisions pour charges").rstrip().endswith("75,00 €")
    assert row(text, "Prov.Charges Générales LG").rstrip().endswith("60,00 €")
    assert row(text, "Eau froide").rstrip().endswith("15,00 €")
    assert row(text, "Montant payé").rstrip().endswith("225,00 €")
    assert text.index("Loyer Foyer") < text.index("Provisions pour charges") < text.index("Prov.Charges")


def test_apl_and_rls_each_on_their_own_line_never_merged():
    text = quittance_text()
    assert row(text, "APL").rstrip().endswith("-200,00 €")
    assert row(text, "RLS").rstrip().endswith("-50,00 €")
    assert "-250,00 €" not in text  # no merged aid line
    assert "Aides au logement versées à l'Office, déduites" in text


def test_quittance_statement_for_one_holder_and_for_co_holders():
    flat = " ".join(quittance_text().split())
    assert "déclare avoir reçu de N'DIAYE Awa la somme de 225,00 €" in flat
    assert "et lui en donne quittance" in flat
    assert "Cette quittance solde la période indiquée." in flat
    assert f"Fait à {get_office().city}, le 5 mars 2024" in flat
    co_holders = TenancySnapshot(
        "777", TENANCY, [Holder("777", "N'DIAYE", "Awa", "1990-01-01"), Holder("777", "MARTIN", "Paul", "1988-02-02")]
    )
    flat = " ".join(quittance_text(co_holders).split())
    assert "déclare avoir reçu de MARTIN Paul et N'DIAYE Awa la somme de 225,00 €" in flat
    assert "et leur en donne quittance" in flat
    assert "lui en donne" not in flat
    assert holders_text(["A", "B", "C"]) == "A, B et C"


def test_the_office_footer_is_on_the_quittance():
    office = get_office()
    text = quittance_text()
    assert f"{office.name} — {office.postal_address}" in text
    assert f"Tél. {office.phone}" in text


def test_recu_shows_the_amount_actually_paid_and_what_is_left():
    document = receipt("recu", 10000)
    text = pdf_text(render_quittance(document, Settlement(NOTICE_DOC, 22500, 10000, PARTIAL), SNAPSHOT))
    flat = " ".join(text.split())
    assert "REÇU" in text
    assert "QUITTANCE DE LOYER" not in text
    assert "la somme de 100,00 € en paiement partiel" in flat
    assert "Ce reçu ne vaut pas quittance" in flat
    assert "en donne quittance" not in flat
    assert row(text, "Reste à payer").rstrip().endswith("125,00 €")
    assert row(text, "APL").rstrip().endswith("-200,00 €") and row(text, "RLS").rstrip().endswith("-50,00 €")


def test_a_quittance_with_many_lines_continues_on_a_second_page():
    lines = [{"label": f"Ligne n° {n}", "category": "charges", "amount_cents": 100} for n in range(1, 61)]
    notice = Document(**{**NOTICE_DOC.__dict__, "extra": {"lines": lines}, "amount_due_cents": 6000})
    data = render_quittance(receipt("quittance", 6000), Settlement(notice, 6000, 6000, PAID), SNAPSHOT)
    text = pdf_text(data)
    assert text.count("\f") >= 2
    positions = [text.index(f"Ligne n° {n} ") for n in range(1, 61)]
    assert positions == sorted(positions)
    assert "en donne quittance" in " ".join(text.split())


# -- the reçu de paiement


def details(**overrides: object) -> ReceiptDetails:
    values: dict[str, object] = {
        "payment_id": "0123456789abcdef0123456789abcdef",
        "tenant_number": "123456",
        "holder_name": "Jean DUPOND",
        "amount": "220,00 €",
        "paid_on": "28/05/2019",
        "paid_time": "14:05",
        "trans_id": "000001",
        "trans_date": "20190528120342",
        "issued_on": "28 mai 2019",
        "contract_number": "0123456-01",
        "address_lines": ["10 Rue Hémet", "93300 AUBERVILLIERS"],
        "trans_uuid": "8a7c2f0e4b1d4c7a9e3f5b6d7c8e9f01",
    }
    values.update(overrides)
    return ReceiptDetails(**values)  # type: ignore[arg-type]


def test_payment_reference_is_readable_on_the_phone():
    payment = Payment(
        payment_id="0123456789abcdef0123456789abcdef",
        tenant_number="00123456",
        amount_cents=22000,
        status=SUCCEEDED,
        trans_id="000001",
        trans_date="20190528120342",
    )
    assert payment_reference(payment) == "123456-20190528-000001"
    assert reference_of("123456", "20190528235959", "000042") == "123456-20190528-000042"
    assert details().reference == "123456-20190528-000001"


def test_receipt_shows_the_reference_the_transaction_and_the_banks_reference_in_paris_time():
    text = pdf_text(render_receipt(details()))
    flat = " ".join(text.split())
    assert "REÇU DE PAIEMENT" in text
    assert row(text, "Référence du paiement").rstrip().endswith("123456-20190528-000001")
    assert row(text, "N° de transaction").rstrip().endswith("000001 du 28/05/2019")
    assert row(text, "Référence de la banque").rstrip().endswith("8a7c2f0e4b1d4c7a9e3f5b6d7c8e9f01")
    assert "28/05/2019 à 14 h 05 (heure de Paris)" in flat
    assert "0123456789abcdef0123456789abcdef" not in text  # the 32-character id is not for people
    assert "ne vaut pas quittance" in flat
    assert f"contactez l'Office au {get_office().phone} en rappelant la référence 123456-20190528-000001" in flat
    assert f"Tél. {get_office().phone}" in text  # the footer


def test_receipt_without_a_banks_reference_leaves_the_row_out():
    text = pdf_text(render_receipt(details(trans_uuid="")))
    assert "Référence de la banque" not in text


def test_french_time():
    assert french_time("14:05") == "14 h 05"
    assert french_time("09:05") == "9 h 05"
    assert french_time("0:00") == "0 h 00"
