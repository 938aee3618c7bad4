"""The movements import (contract section 8) through the real function: S3 event -> import
function -> movements in DynamoDB and a report in S3; the balance warnings of the tenants and
notices files; the demo seed's movements."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from oph.tenancy.model import balance_on
from oph.tenancy.store import TenancyStore
from tests.factories import make_tenant
from tests.handlers.test_import_support import NOTICE_HEADER, TENANT_HEADER, csv_bytes, read_report, run_import

HEADER = "tenant_number;date;label;amount;reference"


def fresh_number() -> str:
    return str(600000 + secrets.randbelow(99999))


def history(number: str) -> list[str]:
    return [
        f"{number};01/01/2019;Report à nouveau;450,68;M-1",
        f"{number};2019-01-24;Loyer janvier 2019;220.00;M-2",
        f"{number};05/02/2019;APL janvier 2019;-120,00;M-3",
        f"{number};10/02/2019;Virement;-100;M-4",
    ]


@pytest.fixture
def writes(runtime) -> Iterator[list[str]]:
    """The DynamoDB write operations the import makes (names, in order)."""
    from oph.platform import aws as oph_aws

    client = oph_aws.dynamodb()
    seen: list[str] = []

    def record(model: Any = None, **_: Any) -> None:
        if model is not None and model.name in ("TransactWriteItems", "BatchWriteItem", "PutItem", "UpdateItem"):
            seen.append(model.name)

    client.meta.events.register("before-call.dynamodb.*", record)
    yield seen
    client.meta.events.unregister("before-call.dynamodb.*", record)


def summary(number: str) -> list[tuple[str, str, int, str]]:
    return sorted((m.date, m.label, m.amount_cents, m.reference) for m in TenancyStore().movements(number))


def test_movements_file_report_good_and_bad_rows(runtime, aws):
    number = make_tenant(fresh_number()).holder.tenant_number
    rows = [
        *history(number),
        "999999999;01/01/2019;Report à nouveau;10,00;M-1",
        f"{number};30/02/2019;Loyer février 2019;220,00;M-5",
        f"{number};24/02/2019;Loyer février 2019;deux cents;M-6",
        f"{number};24/02/2019;Loyer février 2019;220,00;",
        f"{number};2019-01-24;Loyer janvier 2019;220,00;M-2",  # the same as line 3
        f"{number};24/03/2019;Loyer mars 2019;220,00;M-7",
        f"{number};25/03/2019;Loyer mars 2019;230,00;M-7",
        "too;few",
    ]
    report = run_import(runtime, aws, "movements", "mouvements-2019.csv", csv_bytes(HEADER, rows, bom=True))
    again = "aucune de ces lignes n'est importée ; corrigez le fichier et déposez-le à nouveau."
    assert report == {
        "file": "imports/movements/mouvements-2019.csv",
        "kind": "movements",
        "status": "done",
        "rows_read": 12,
        "rows_accepted": 4,
        "rows_rejected": 8,
        "rejected": [
            {
                "line": 6,
                "reason": "Numéro d'intitulé inconnu : 999999999 (importez d'abord le fichier des locataires).",
            },
            {"line": 7, "reason": "Date invalide : « 30/02/2019 » (format attendu JJ/MM/AAAA ou AAAA-MM-JJ)."},
            {"line": 8, "reason": "Montant invalide : « deux cents » (attendu par exemple 1234,56 ou -12.30)."},
            {"line": 9, "reason": "Référence (reference) manquante : chaque mouvement doit avoir la sienne."},
            {
                "line": 10,
                "reason": "Ligne en double de la ligne 3 : ignorée pour ne pas compter le montant deux fois.",
            },
            {
                "line": 11,
                "reason": f"Référence « M-7 » reprise ligne 12 avec d'autres valeurs (date, montant) : {again}",
            },
            {
                "line": 12,
                "reason": f"Référence « M-7 » déjà présente ligne 11 avec d'autres valeurs (date, montant) : {again}",
            },
            {"line": 13, "reason": "Nombre de champs incorrect : 5 attendus, 2 trouvés."},
        ],
        "documents_created": 0,
        "warnings": [],
    }
    assert read_report(aws, "imports/reports/mouvements-2019.json") == report
    assert read_report(aws, "imports/reports/movements/mouvements-2019.json") == report
    assert summary(number) == [
        ("2019-01-01", "Report à nouveau", 45068, "M-1"),
        ("2019-01-24", "Loyer janvier 2019", 22000, "M-2"),
        ("2019-02-05", "APL janvier 2019", -12000, "M-3"),
        ("2019-02-10", "Virement", -10000, "M-4"),
    ]
    tenancy = TenancyStore().get_tenancy(number)
    assert tenancy.has_movements is True
    assert TenancyStore().get_tenancy("999999999") is None


def test_importing_twice_changes_nothing_and_a_correction_replaces(runtime, aws, writes):
    number = make_tenant(fresh_number()).holder.tenant_number
    data = csv_bytes(HEADER, history(number))
    first = run_import(runtime, aws, "movements", "m.csv", data)
    before = summary(number)
    writes.clear()
    assert run_import(runtime, aws, "movements", "m.csv", data) == first
    assert writes == [] and summary(number) == before
    corrected = csv_bytes(HEADER, [*history(number)[:3], f"{number};10/02/2019;Virement;-110,00;M-4"])
    report = run_import(runtime, aws, "movements", "m.csv", corrected)
    assert (report["rows_accepted"], report["rejected"]) == (4, [])
    assert writes == ["TransactWriteItems"]
    assert summary(number)[-1] == ("2019-02-10", "Virement", -11000, "M-4")
    assert len(summary(number)) == 4


def test_a_large_file_is_written_in_transactions_of_whole_tenancies(runtime, aws, writes):
    numbers = [make_tenant(fresh_number()).holder.tenant_number for _ in range(3)]
    rows = [f"{n};01/01/2019;Loyer {i};{i},00;R-{i}" for n in numbers for i in range(1, 61)]
    writes.clear()
    report = run_import(runtime, aws, "movements", "big.csv", csv_bytes(HEADER, rows))
    assert (report["rows_accepted"], report["rejected"]) == (180, [])
    assert writes == ["TransactWriteItems"] * 3  # 61 items each (60 movements and the flag)
    assert [len(TenancyStore().movements(n)) for n in numbers] == [60, 60, 60]


def test_balances_of_the_tenants_and_notices_files_are_checked_against_the_movements(runtime, aws):
    number = fresh_number()
    tenants = csv_bytes(TENANT_HEADER, [f"{number};MARTIN;Léa;1980-02-01;C;T;1 Rue;93300;AUBERVILLIERS;;"])
    run_import(runtime, aws, "tenants", "t.csv", tenants)
    run_import(runtime, aws, "movements", "m.csv", csv_bytes(HEADER, history(number)))
    disagreeing = csv_bytes(
        TENANT_HEADER, [f"{number};MARTIN;Léa;1980-02-01;C;T;1 Rue;93300;AUBERVILLIERS;500,00;10/02/2019"]
    )
    report = run_import(runtime, aws, "tenants", "t2.csv", disagreeing)
    assert report["warnings"] == [
        {
            "line": 2,
            "reason": "Solde de 500,00 € au 10/02/2019 différent de celui des mouvements du compte à cette date "
            "(450,68 €) : le locataire voit le solde des mouvements.",
        }
    ]
    assert report["rows_accepted"] == 1
    snapshot = TenancyStore().get_tenancy(number)  # recorded, but the movements make the balance
    assert (snapshot.balance_cents, snapshot.balance_date, snapshot.has_movements) == (50000, "2019-02-10", True)
    notices = csv_bytes(NOTICE_HEADER, [f"{number};2019-02;24/02/2019;10/03/2019;Loyer;rent;220,00;450,68;10/02/2019"])
    assert run_import(runtime, aws, "notices", "n.csv", notices)["warnings"] == []


def test_the_demo_seed_movements_explain_the_demo_balance(runtime, aws, demo_tenant):
    movements = read_report(aws, "imports/reports/movements-demo.json")
    assert (movements["status"], movements["rows_read"], movements["rows_accepted"]) == ("done", 12, 12)
    assert movements["warnings"] == [] and movements["rejected"] == []
    for name in ("tenants-demo", "notices-2019-05"):
        assert read_report(aws, f"imports/reports/{name}.json")["warnings"] == []
    found = TenancyStore().movements("123456")
    assert balance_on(found, "2019-05-23") == 61068
    assert balance_on(found, "2019-01-01") == 45068
    labels = [m.label for m in sorted(found, key=lambda m: (m.date, m.reference))]
    assert labels[0] == "Report à nouveau" and labels[-1] == "Virement"
    assert TenancyStore().get_tenancy("123456").has_movements is True
