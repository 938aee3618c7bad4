"""CSV parsing of the admin imports: exact cents, both date formats, BOM, header checks."""

from __future__ import annotations

import pytest

from oph.imports.csv_format import (
    MOVEMENTS,
    NOTICES,
    TENANTS,
    FileRejected,
    RowRejected,
    movement_row,
    notice_row,
    parse_amount,
    parse_date,
    parse_period,
    split_rows,
    tenant_row,
)

NOTICE_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("175,03", 17503),
        ("175.03", 17503),
        ("7,76", 776),
        ("12,5", 1250),
        ("12.5", 1250),
        ("12", 1200),
        ("-20,00", -2000),
        ("+3,10", 310),
        ("1 234,56", 123456),
        ("1\u202f234,56", 123456),
        ("1\u00a0234.56 €", 123456),
        ("4.35", 435),  # 4.35 * 100 == 434.99999999999994 with floats
        ("0,29", 29),
        ("1.15", 115),
        ("0", 0),
    ],
)
def test_amounts_become_exact_cents(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "12,345", "1,2,3", "12,", ",5", "1.234,56", "--3", "12 €50"])
def test_bad_amounts_are_refused_in_french(text):
    with pytest.raises(RowRejected) as caught:
        parse_amount(text)
    assert caught.value.reason.startswith("Montant invalide")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("10/06/2019", "2019-06-10"),
        ("2019-06-10", "2019-06-10"),
        ("1/6/2019", "2019-06-01"),
        (" 29/02/2020 ", "2020-02-29"),
    ],
)
def test_both_date_formats(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["31/02/2019", "2019-13-01", "10-06-2019", "2019/06/10", "demain", "06/10"])
def test_bad_dates_are_refused(text):
    with pytest.raises(RowRejected) as caught:
        parse_date(text, "Date limite de paiement")
    assert "JJ/MM/AAAA ou AAAA-MM-JJ" in caught.value.reason


def test_periods():
    assert parse_period("2019-05") == "2019-05"
    assert parse_period("05/2019") == "2019-05"
    with pytest.raises(RowRejected):
        parse_period("2019-13")


def test_notice_row_reads_every_column():
    values = dict(
        zip(
            NOTICE_HEADER.split(";"),
            ["00123456", "2019-05", "24/05/2019", "2019-06-10", "Loyer", "RENT", "175,03", "610.68", "23/05/2019"],
            strict=True,
        )
    )
    row = notice_row(2, values)
    assert (row.tenant_number, row.period, row.issue_date, row.due_date) == (
        "123456",
        "2019-05",
        "2019-05-24",
        "2019-06-10",
    )
    assert (row.category, row.amount_cents, row.balance_cents, row.balance_date) == ("rent", 17503, 61068, "2019-05-23")


def test_aid_lines_must_be_negative_and_categories_known():
    base = dict(
        zip(
            NOTICE_HEADER.split(";"),
            ["1", "2019-05", "24/05/2019", "10/06/2019", "APL", "aid", "-50", "", ""],
            strict=True,
        )
    )
    assert notice_row(3, base).amount_cents == -5000
    with pytest.raises(RowRejected, match="négatif"):
        notice_row(3, {**base, "amount": "50"})
    with pytest.raises(RowRejected, match="Catégorie invalide"):
        notice_row(3, {**base, "category": "loyer"})
    with pytest.raises(RowRejected, match="vont ensemble"):
        notice_row(3, {**base, "balance": "12,00"})


def test_tenant_row_checks_names_birth_date_and_postal_code():
    header = "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;address_line1;postal_code;city;balance;balance_date"
    values = dict(
        zip(
            header.split(";"),
            ["123456", "DUPOND", "Jean", "10/09/1975", "C1", "T1", "10 Rue Hémet", "93300", "AUBERVILLIERS", "", ""],
            strict=True,
        )
    )
    row = tenant_row(2, values, "2024-01-01")
    assert (row.birth_date, row.balance_cents, row.address_line1) == ("1975-09-10", None, "10 Rue Hémet")
    with pytest.raises(RowRejected, match="Nom"):
        tenant_row(2, {**values, "last_name": " "}, "2024-01-01")
    with pytest.raises(RowRejected, match="Date de naissance invalide") as caught:
        tenant_row(2, {**values, "birth_date": "31/02/1975"}, "2024-01-01")
    assert "1975" not in caught.value.reason  # personal data is not echoed in reports
    with pytest.raises(RowRejected, match="Code postal"):
        tenant_row(2, {**values, "postal_code": "9330"}, "2024-01-01")


def test_bom_header_and_line_numbers():
    data = ("\ufeff" + NOTICE_HEADER + "\n1;2019-05;24/05/2019;10/06/2019;Loyer;rent;1;;\n\n1;2019-05;x\n").encode()
    parsed = split_rows(data, NOTICES)
    assert [line for line, _ in parsed.rows] == [2]
    assert parsed.rows[0][1]["tenant_number"] == "1"
    assert parsed.rejected == [(4, "Nombre de champs incorrect : 9 attendus, 3 trouvés.")]


def test_crlf_and_quoted_fields():
    data = (NOTICE_HEADER + '\r\n1;2019-05;24/05/2019;10/06/2019;"Loyer; principal";rent;1;;\r\n').encode()
    parsed = split_rows(data, NOTICES)
    assert parsed.rows[0][1]["label"] == "Loyer; principal"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "Le fichier est vide."),
        ("tenant_number;période\n".encode(), "Colonnes manquantes"),
        (b"tenant_number,last_name,first_name\n", "point-virgule"),
        ("tenant_number;last_name\nDUPOND;Hélène\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_broken_files_are_rejected_with_a_french_reason(data, reason):
    with pytest.raises(FileRejected) as caught:
        split_rows(data, TENANTS)
    assert reason in caught.value.reason


MOVEMENT_HEADER = "tenant_number;date;label;amount;reference"


def test_movement_row_reads_every_column_in_either_format():
    values = dict(
        zip(
            MOVEMENT_HEADER.split(";"),
            ["00123 456", "05/02/2019", " APL janvier 2019 ", "-120,00", " M-3 "],
            strict=True,
        )
    )
    row = movement_row(4, values)
    assert (row.line, row.tenant_number, row.date, row.label, row.amount_cents, row.reference) == (
        4,
        "123456",
        "2019-02-05",
        "APL janvier 2019",
        -12000,
        "M-3",
    )
    iso = movement_row(5, {**values, "date": "2019-02-05", "amount": "-120.0"})
    assert (iso.key, iso.values) == (("123456", "M-3"), ("2019-02-05", "APL janvier 2019", -12000))


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("tenant_number", "", "Numéro d'intitulé manquant."),
        ("date", "2019-02-30", "Date invalide : « 2019-02-30 » (format attendu JJ/MM/AAAA ou AAAA-MM-JJ)."),
        ("date", "", "Date (date) manquante."),
        ("label", " ", "Libellé (label) manquant."),
        ("amount", "1.234,56", "Montant invalide : « 1.234,56 » (attendu par exemple 1234,56 ou -12.30)."),
        ("reference", "", "Référence (reference) manquante : chaque mouvement doit avoir la sienne."),
        ("reference", "M" * 101, "Référence trop longue (100 caractères au plus)."),
    ],
)
def test_bad_movement_rows_are_refused_in_french(column, value, reason):
    values = dict(zip(MOVEMENT_HEADER.split(";"), ["123456", "05/02/2019", "APL", "-120,00", "M-3"], strict=True))
    with pytest.raises(RowRejected) as caught:
        movement_row(2, {**values, column: value})
    assert caught.value.reason == reason


def test_movements_file_with_bom_and_its_header_checked():
    data = ("\ufeff" + MOVEMENT_HEADER + "\r\n123456;01/01/2019;Report à nouveau;450,68;M-1\r\n").encode()
    parsed = split_rows(data, MOVEMENTS)
    assert parsed.rows == [
        (
            2,
            {
                "tenant_number": "123456",
                "date": "01/01/2019",
                "label": "Report à nouveau",
                "amount": "450,68",
                "reference": "M-1",
            },
        )
    ]
    with pytest.raises(FileRejected, match="Colonnes manquantes dans l'en-tête \\(ligne 1\\) : reference"):
        split_rows(b"tenant_number;date;label;amount\n", MOVEMENTS)
