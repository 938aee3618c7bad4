"""The avis d'échéance PDF, read back with poppler's pdftotext (independent of reportlab)."""

from __future__ import annotations

import subprocess

import pytest

from oph.documents import notice_pdf, sheet
from oph.documents.model import NOTICE, Document
from oph.documents.notice_pdf import account_situation, render_notice
from oph.documents.sheet import Addressee, Sheet, address_window, record, references
from oph.platform.office import get_office
from oph.tenancy.model import Holder, Tenancy

# The office's own labels, in the office's order (contract section 7, the demo tenant).
LINES = [
    ("Loyer Foyer", "rent", 17503),
    ("Prov.Charges Générales LG", "charges", 776),
    ("Prov.Charges Générales SH", "charges", 1472),
    ("Prov.Chauffage", "charges", 1955),
    ("Prov.Divers AppareilsChauffage", "charges", 294),
]


def demo_notice(lines: list[tuple[str, str, int]] | None = None, **extra: object) -> Document:
    lines = LINES if lines is None else lines
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
        amount_due_cents=sum(amount for _, _, amount in lines),
        extra={
            "lines": [{"label": label, "category": cat, "amount_cents": amount} for label, cat, amount in lines],
            "balance_cents": 61068,
            "balance_date": "2019-05-23",
            **extra,
        },
    )


TENANCY = Tenancy("123456", "0123456-01", "T0098765", "10 Rue Hémet", "93300", "AUBERVILLIERS")
HOLDERS = [Holder("123456", "DUPOND", "Jean", "1975-09-10")]


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    out = subprocess.run(["pdftotext", "-layout", "-nodiag", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def row(text: str, label: str) -> str:
    """The (first) line of the extracted text that holds ``label``."""
    return next(line for line in text.splitlines() if label in line)


def page_count(data: bytes) -> int:
    return pdf_text(data).count("\f") or 1


def test_demo_notice_reads_like_the_paper_notice():
    text = pdf_text(render_notice(demo_notice(), TENANCY, HOLDERS))
    office = get_office()
    for expected in (
        "AVIS D'ÉCHÉANCE",
        "Période : Mai 2019",
        "Date d'émission : 24/05/2019",
        "N° intitulé :",
        "N° contrat :",
        "0123456-01",
        "N° tiers :",
        "T0098765",
        "Adresse de la location :",
        "10 Rue Hémet, 93300 AUBERVILLIERS",
        "DUPOND Jean",
    ):
        assert expected in text, expected
    assert "123456" in row(text, "N° intitulé :")
    # the interlocuteur: the office's service, with its address and phone
    assert "Interlocuteur :" in row(text, "Service Gestion locative")
    assert office.address_line1 in text and office.town in text
    assert f"Tél. : {office.phone}" in text


def test_every_line_with_its_label_as_imported_in_file_order():
    text = pdf_text(render_notice(demo_notice(), TENANCY, HOLDERS))
    positions = [text.index(label) for label, _, _ in LINES]
    assert positions == sorted(positions)
    for label, _, amount in LINES:
        assert row(text, label).rstrip().endswith(f"{amount // 100},{amount % 100:02d} €"), label
    assert row(text, "TOTAL DE L'ÉCHÉANCE").rstrip().endswith("220,00 €")
    assert row(text, "Date limite de paiement :").rstrip().endswith("10/06/2019")
    assert "Montant à payer" not in text  # the notice's total is not what the tenant owes


def test_account_situation_solde_and_net_a_payer():
    text = pdf_text(render_notice(demo_notice(), TENANCY, HOLDERS))
    assert row(text, "Solde au 23/05/2019").rstrip().endswith("610,68 €")
    assert "somme due" in row(text, "Solde au 23/05/2019")
    assert row(text, "Avis d'échéance de mai 2019").rstrip().endswith("220,00 €")
    net = row(text, "Net à payer")
    assert net.rstrip().endswith("830,68 €") and "avant le 10/06/2019" in net


def test_a_balance_dated_on_or_after_the_issue_date_already_includes_the_notice():
    document = demo_notice(balance_cents=83068, balance_date="2019-05-24")
    situation = account_situation(document)
    assert (situation.includes_notice, situation.net_cents) == (True, 83068)
    text = pdf_text(render_notice(document, TENANCY, HOLDERS))
    assert row(text, "Solde au 24/05/2019").rstrip().endswith("830,68 €")
    assert "Avis d'échéance de mai 2019" not in text
    assert row(text, "Net à payer").rstrip().endswith("830,68 €")


def test_a_credit_is_in_the_tenants_favour_and_the_net_is_zero():
    document = demo_notice(balance_cents=-30000)
    text = pdf_text(render_notice(document, TENANCY, HOLDERS))
    solde = row(text, "Solde au 23/05/2019")
    assert "crédit en votre faveur" in solde and solde.rstrip().endswith("300,00 €")
    assert row(text, "Net à payer").rstrip().endswith("0,00 €")
    assert "Net à payer : 0,00 €" in text  # on the talon too
    assert "Crédit restant en votre faveur : 80,00 €" in text
    assert account_situation(demo_notice(balance_cents=-22000)).net_cents == 0


def test_without_a_balance_the_net_is_the_notices_total():
    document = demo_notice(balance_cents=None, balance_date=None)
    text = pdf_text(render_notice(document, TENANCY, HOLDERS))
    assert "Solde : non communiqué" in text
    assert row(text, "Net à payer").rstrip().endswith("220,00 €")


def test_the_talon_names_the_payee_its_bank_details_the_reference_and_the_ways_to_pay():
    text = pdf_text(render_notice(demo_notice(), TENANCY, HOLDERS))
    office = get_office()
    talon = text[text.index("TALON À JOINDRE À VOTRE RÈGLEMENT") :]
    flat = " ".join(talon.split())
    assert f"Bénéficiaire : {office.name}" in flat
    assert office.address_line1 in talon and office.town in talon
    assert f"IBAN : {office.iban}" in flat and f"BIC : {office.bic}" in flat
    assert "Référence : 123456-2019-05" in flat
    assert "Net à payer : 830,68 €" in flat and "Date limite : 10/06/2019" in flat
    for way in ("par carte bancaire", "par virement", "la référence 123456-2019-05", "par prélèvement automatique"):
        assert way in flat, way
    assert f"par chèque à l'ordre de l'{office.name}" in flat


def test_aids_each_on_their_own_line_with_thousands():
    lines = [
        ("Loyer", "rent", 123456),
        ("APL", "aid", -25000),
        ("RLS", "aid", -4500),
    ]
    text = pdf_text(render_notice(demo_notice(lines, balance_cents=None), TENANCY, HOLDERS))
    assert row(text, "Loyer").rstrip().endswith("1 234,56 €")
    assert row(text, "APL").rstrip().endswith("-250,00 €")
    assert row(text, "RLS").rstrip().endswith("-45,00 €")
    assert row(text, "TOTAL DE L'ÉCHÉANCE").rstrip().endswith("939,56 €")


def test_the_office_details_come_from_the_configuration(monkeypatch):
    monkeypatch.setenv("OFFICE_PHONE", "01 48 11 22 33")
    monkeypatch.setenv("OFFICE_IBAN", "FR76 1111 2222 3333 4444 5555 666")
    monkeypatch.setenv("OFFICE_ADDRESS", "7 rue de la Commune de Paris, 93300 Aubervilliers")
    get_office.cache_clear()
    try:
        text = pdf_text(render_notice(demo_notice(), TENANCY, HOLDERS))
    finally:
        monkeypatch.undo()
        get_office.cache_clear()
    assert "Tél. : 01 48 11 22 33" in text
    assert "IBAN : FR76 1111 2222 3333 4444 5555 666" in " ".join(text.split())
    assert "7 rue de la Commune de Paris" in text
    # the footer of the page carries the office's details
    assert "7 rue de la Commune de Paris, 93300 Aubervilliers" in text
    assert "Tél. 01 48 11 22 33" in text


def test_a_long_notice_continues_on_the_next_page_with_the_talon_last():
    lines = [(f"Ligne n° {n}", "charges", 100 + n) for n in range(1, 46)]
    data = render_notice(demo_notice(lines), TENANCY, HOLDERS)
    text = pdf_text(data)
    assert page_count(data) >= 2
    positions = [text.index(f"Ligne n° {n} ") for n in range(1, 46)]
    assert positions == sorted(positions)
    assert text.count("TALON À JOINDRE À VOTRE RÈGLEMENT") == 1
    assert text.index("TALON") > text.index("Ligne n° 45 ")
    assert text.count("DÉTAIL DE L'ÉCHÉANCE — MAI 2019") == 2  # the table's header repeated


@pytest.mark.parametrize("label", ["Loyer Foyer", "Prov.Divers AppareilsChauffage", "Eau chaude ŒUVRE – n° 3"])
def test_labels_are_printed_verbatim(label):
    text = pdf_text(render_notice(demo_notice([(label, "charges", 100)]), TENANCY, HOLDERS))
    assert label in text


def test_rendering_is_deterministic_and_co_holders_are_named():
    holders = [*HOLDERS, Holder("123456", "DUPOND", "Marie", "1977-01-02")]
    first = render_notice(demo_notice(), TENANCY, holders)
    assert first == render_notice(demo_notice(), TENANCY, holders)
    text = pdf_text(first)
    assert "DUPOND Jean" in text and "DUPOND Marie" in text


def raster(data: bytes, tmp_path, name: str) -> list[bytes]:
    """Each page as poppler draws it at 60 dpi (PNG bytes)."""
    (tmp_path / f"{name}.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)], check=True)
    return [page.read_bytes() for page in sorted(tmp_path.glob(f"{name}-*.png"))]


def test_a_replayed_template_looks_exactly_like_the_drawing_it_recorded(tmp_path):
    addressee = Addressee.of(TENANCY, HOLDERS)

    def draw(on: Sheet) -> None:
        on.letterhead("AVIS D'ÉCHÉANCE", ["Période : Mai 2019"])
        references(on, "123456", addressee, top=44)
        address_window(on, addressee, top=50)

    drawn, replayed = Sheet("t"), Sheet("t")
    draw(drawn)
    replayed.replay(record(replayed.office, draw))
    assert raster(drawn.finish(), tmp_path, "drawn") == raster(replayed.finish(), tmp_path, "replayed")
    # what the template set (white text, fonts) does not leak into what is drawn after it
    after = Sheet("t")
    after.replay(record(after.office, draw))
    after.text(20, 100, "Texte après le modèle", size=9)
    plain = Sheet("t")
    draw(plain)
    plain.text(20, 100, "Texte après le modèle", size=9)
    assert raster(after.finish(), tmp_path, "after") == raster(plain.finish(), tmp_path, "plain")


def test_the_parts_every_notice_shares_are_drawn_once_per_container(monkeypatch):
    notice_pdf.first_page_template.cache_clear()
    notice_pdf.talon_template.cache_clear()
    sheet.footer_template.cache_clear()
    drawn: list[str] = []

    def counted(office, draw):
        drawn.append(draw.__name__)
        return record(office, draw)

    monkeypatch.setattr(notice_pdf, "record", counted)
    monkeypatch.setattr(sheet, "record", counted)
    long = demo_notice([(f"Ligne {n}", "charges", 100) for n in range(60)])
    for document in (demo_notice(), long, demo_notice(balance_cents=None)):
        render_notice(document, TENANCY, HOLDERS)
    assert sorted(drawn) == ["_draw_footer", "_first_page_frame", "_talon_frame"]


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
