"""The relevé de compte: its PDF read back with pdftotext, and the document made of it
(``create_statement_document``) against the in-memory stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from oph.documents.library import download_link, list_documents
from oph.documents.model import STATEMENT
from oph.payments.model import SUCCEEDED, Payment
from oph.payments.statement import Statement, StatementLine
from oph.payments.statement_document import create_statement_document, statement_filename, statement_title
from oph.payments.statement_pdf import balance_words, render_statement
from oph.platform import clock
from oph.platform.errors import ValidationFailed
from oph.platform.office import get_office
from oph.tenancy.model import Holder, Movement, Tenancy
from tests.twins.payments import PaymentsTwin, memory_payments
from tests.unit.test_notice_pdf import pdf_text, row

TENANCY = Tenancy("123456", "0123456-01", "T0098765", "10 Rue Hémet", "93300", "AUBERVILLIERS", 61068, "2019-05-23")
HOLDERS = [Holder("123456", "DUPOND", "Jean", "1975-09-10"), Holder("123456", "DUPOND", "Marie", "1977-01-02")]
MOVEMENTS = [
    ("2018-12-31", "Report à nouveau", 39068, "M-1"),
    ("2019-01-24", "Loyer janvier 2019", 22000, "M-2"),
    ("2019-02-05", "APL janvier 2019", -12000, "M-3"),
    ("2019-05-05", "Virement", -18000, "M-4"),
]


def statement(items: list[StatementLine] | None = None, opening: int = 39068, to_pay: int = 0) -> Statement:
    if items is None:
        items = [
            StatementLine("2019-01-24", "Loyer janvier 2019", 22000, 61068, "office", "M-2"),
            StatementLine("2019-02-05", "APL janvier 2019", -12000, 49068, "office", "M-3"),
            StatementLine("2019-05-05", "Virement", -18000, 31068, "office", "M-4"),
            StatementLine("2019-05-28", "Paiement en ligne", -32000, -932, "online", "p1"),
        ]
    closing = items[-1].balance_cents if items else opening
    return Statement("2019-01-01", "2019-05-31", opening, items, closing, to_pay)


def render(found: Statement) -> str:
    return pdf_text(render_statement(found, TENANCY, HOLDERS, tenant_number="123456", produced_on="2019-05-31"))


def test_the_statement_shows_who_what_and_every_movement_with_its_running_balance():
    text = render(statement())
    flat = " ".join(text.split())
    office = get_office()
    assert "RELEVÉ DE COMPTE" in text
    assert "Du 01/01/2019 au 31/05/2019" in text and "Édité le 31/05/2019" in text
    assert office.name.upper().split()[0] in text and f"Tél. : {office.phone}" in text  # header, interlocuteur
    assert "Titulaire(s) : DUPOND Jean, DUPOND Marie" in flat
    assert "0123456-01" in text and "T0098765" in text and "123456" in text
    assert "Logement : 10 Rue Hémet, 93300 AUBERVILLIERS" in flat
    assert "Période : du 1er janvier 2019 au 31 mai 2019" in flat
    opening = [line for line in text.splitlines() if "Solde au 31/12/2018" in line]
    assert opening[-1].rstrip().endswith("390,68 €")  # the table's first row
    assert row(text, "Loyer janvier 2019").split()[-4:] == ["220,00", "€", "610,68", "€"]
    assert row(text, "APL janvier 2019").split()[-4:] == ["120,00", "€", "490,68", "€"]
    assert row(text, "Virement").split()[-4:] == ["180,00", "€", "310,68", "€"]
    assert row(text, "Paiement en ligne *").rstrip().endswith("-9,32 €")
    closing = [line for line in text.splitlines() if "Solde au 31/05/2019" in line]
    assert closing[-1].rstrip().endswith("-9,32 €")
    assert "9,32 € (crédit en votre faveur)" in flat  # the summary says it in words
    assert row(text, "Net à payer à ce jour").rstrip().endswith("0,00 €")
    assert "* Paiement en ligne reçu, pas encore enregistré" in flat
    assert "Relevé édité le 31 mai 2019 (heure de Paris)." in flat
    assert f"{office.name} — {office.postal_address}" in text  # the footer
    positions = [text.index(label) for label in ("Loyer janvier", "APL janvier", "Virement", "Paiement en ligne *")]
    assert positions == sorted(positions)


def test_summary_totals_and_an_empty_period():
    text = render(statement())
    assert row(text, "Total des débits").rstrip().endswith("220,00 €")
    assert row(text, "Total des crédits").rstrip().endswith("620,00 €")
    empty = render(statement(items=[], opening=61068, to_pay=83068))
    assert [line for line in empty.splitlines() if "Solde au 31/05/2019" in line][-1].rstrip().endswith("610,68 €")
    assert row(empty, "Net à payer à ce jour").rstrip().endswith("830,68 €")
    assert "Net à payer à ce jour : le solde du compte, plus les avis" in " ".join(empty.split())
    assert balance_words(0) == "0,00 € (compte à jour)"
    assert balance_words(61068) == "610,68 € (somme due)"


def test_a_long_statement_runs_over_pages_with_the_header_repeated():
    items, balance = [], 39068
    for n in range(1, 121):
        amount = 22000 if n % 2 else -22000
        balance += amount
        items.append(StatementLine("2019-03-01", f"Mouvement n° {n}", amount, balance, "office", f"M{n}"))
    data = render_statement(statement(items), TENANCY, HOLDERS, tenant_number="123456", produced_on="2019-05-31")
    text = pdf_text(data)
    pages = text.count("\f")
    assert pages >= 3
    assert sum(1 for line in text.splitlines() if line.split()[:2] == ["Date", "Libellé"]) == pages
    assert f"Page {pages}/{pages}" in text and f"Page 1/{pages}" in text
    positions = [text.index(f"Mouvement n° {n} ") for n in range(1, 121)]
    assert positions == sorted(positions)
    assert text.index("Relevé édité le") > text.index("Mouvement n° 120 ")


def test_a_long_label_wraps_instead_of_being_lost():
    label = "Régularisation des charges locatives de l'exercice 2018 (eau, chauffage, entretien des parties communes)"
    text = render(statement([StatementLine("2019-03-01", label, 1000, 40068, "office", "M9")]))
    flat = " ".join(text.split())
    assert "Régularisation des charges locatives" in flat and "parties communes)" in flat


def test_rendering_is_deterministic():
    first = render_statement(statement(), TENANCY, HOLDERS, tenant_number="123456", produced_on="2019-05-31")
    assert first == render_statement(statement(), TENANCY, HOLDERS, tenant_number="123456", produced_on="2019-05-31")


# -- the document ---------------------------------------------------------------------------------


@pytest.fixture
def stores(monkeypatch) -> Iterator[PaymentsTwin]:
    """The demo tenancy with movements, a 220,00 € card payment on 28/05/2019; today 31/05/2019."""
    noon = datetime(2019, 5, 31, 10, 0, tzinfo=UTC).timestamp()
    monkeypatch.setattr(clock, "now_ts", lambda: noon)
    with memory_payments() as twin:
        twin.tenancy.put_tenancy(TENANCY)
        for holder in HOLDERS:
            twin.tenancy.put_holder(holder)
        twin.tenancy.put_movements([Movement("123456", d, label, cents, ref) for d, label, cents, ref in MOVEMENTS])
        twin.payments.put(
            Payment(
                payment_id="a" * 32,
                tenant_number="123456",
                amount_cents=22000,
                status=SUCCEEDED,
                created_at="2019-05-28T12:00:00Z",
                paid_at="2019-05-28T12:05:00Z",
            )
        )
        yield twin


def test_a_statement_document_is_made_listed_and_downloadable(stores):
    document, created = create_statement_document("123456", "2019-01-01", "2019-05-31")
    assert created
    assert document.as_api() == {
        "id": document.doc_id,
        "type": "statement",
        "title": "Relevé de compte — du 01/01/2019 au 31/05/2019",
        "issued_on": "2019-05-31",
        "period": None,
    }
    assert document.filename == "releve-compte-2019-01-01-2019-05-31.pdf"
    assert document.s3_key.startswith("tenants/123456/statements/")
    assert list_documents("123456", STATEMENT) == [document.as_api()]
    assert download_link("123456", document.doc_id)["filename"] == "releve-compte-2019-01-01-2019-05-31.pdf"
    assert download_link("123456", document.doc_id)["filename"] == statement_filename("2019-01-01", "2019-05-31")
    text = pdf_text(stores.documents.pdfs[document.s3_key])
    assert row(text, "Virement").rstrip().endswith("310,68 €")
    assert row(text, "Paiement en ligne *").rstrip().endswith("90,68 €")


def test_the_same_range_the_same_day_is_the_same_document_and_another_day_a_new_one(stores, monkeypatch):
    first, created = create_statement_document("123456", "2019-01-01", "2019-05-31")
    again, created_again = create_statement_document("123456", "2019-01-01", "2019-05-31")
    assert created and not created_again and again.doc_id == first.doc_id
    other_range, created_other = create_statement_document("123456", "2019-02-01", "2019-05-31")
    assert created_other and other_range.doc_id != first.doc_id
    next_day = datetime(2019, 6, 1, 10, 0, tzinfo=UTC).timestamp()
    monkeypatch.setattr(clock, "now_ts", lambda: next_day)
    later, created_later = create_statement_document("123456", "2019-01-01", "2019-05-31")
    assert created_later and later.doc_id != first.doc_id and later.issued_on == "2019-06-01"
    assert len(list_documents("123456", STATEMENT)) == 3


def test_defaults_and_validation_are_those_of_the_json_statement(stores):
    document, _ = create_statement_document("123456", None, None)
    assert document.title == statement_title("2018-06-01", "2019-05-31")
    with pytest.raises(ValidationFailed) as too_long:
        create_statement_document("123456", "2017-01-01", "2019-05-31")
    assert [(e.field, e.code) for e in too_long.value.errors] == [("from", "range_too_long")]
    with pytest.raises(ValidationFailed) as reversed_range:
        create_statement_document("123456", "2019-06-01", "2019-05-31")
    assert [(e.field, e.code) for e in reversed_range.value.errors] == [("from", "invalid_format")]
    with pytest.raises(ValidationFailed) as malformed:
        create_statement_document("123456", "2019-01-01", "31/05/2019")
    assert [(e.field, e.code) for e in malformed.value.errors] == [("to", "invalid_format")]
    assert not [d for d in stores.documents.documents.values() if d.title != document.title]


def test_contract_file_names_whatever_a_writer_stored():
    from oph.documents.library import download_filename
    from oph.documents.model import MANDATE, Document

    def stored(kind: str, extra: dict[str, str]) -> Document:
        return Document("d", "123456", kind, "t", "2019-05-31", "tenants/123456/d.pdf", "../x", None, extra=extra)

    assert (
        download_filename(stored(STATEMENT, {"from": "2019-01-01", "to": "2019-05-31"}))
        == "releve-compte-2019-01-01-2019-05-31.pdf"
    )
    assert download_filename(stored(MANDATE, {"mandate_reference": "OPH-123456-0001"})) == (
        "mandat-sepa-OPH-123456-0001.pdf"
    )
    assert download_filename(stored(STATEMENT, {"from": "../..", "to": "x"})) == "document.pdf"
    assert stored(MANDATE, {}).as_api() == {
        "id": "d",
        "type": "mandate",
        "title": "t",
        "issued_on": "2019-05-31",
        "period": None,
    }
