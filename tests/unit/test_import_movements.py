"""The movements import (contract section 8) and the balance check of the tenants and notices
files, against the in-memory stores: which rows are accepted, rejected and why, what is
written (and what is not: re-imports, failed batches), and which balances are warned about."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from oph.documents.store import document_store
from oph.imports import movements as movements_import
from oph.imports.csv_format import MovementRow
from oph.imports.movements import tenancy_batches
from oph.imports.report import STORE_FAILURE
from oph.imports.store import import_store
from oph.tenancy.model import Movement, balance_on
from oph.tenancy.store import MOVEMENT_TRANSACTION, movement_transactions, tenancy_store
from tests.twins.documents import MemoryDocumentStore
from tests.twins.imports import MemoryImportStore
from tests.twins.tenancy import MemoryTenancyStore
from tests.unit.test_import_rules import NOTICE_HEADER, TENANT_HEADER, Stores, reasons, rent

HEADER = "tenant_number;date;label;amount;reference"
AGAIN = "aucune de ces lignes n'est importée ; corrigez le fichier et déposez-le à nouveau."


class SpyTenancyStore(MemoryTenancyStore):
    """The twin, counting its reads and writes of movements, and failing the writes of the
    movements whose reference is in ``failing`` (their whole batch, as a failed transaction)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []  # queries of a tenancy's movements
        self.key_reads: list[tuple[str, str]] = []  # movements read by key
        self.written: list[Movement] = []
        self.failing: set[str] = set()
        self.unreadable: set[str] = set()

    def movements(self, tenant_number: str) -> list[Movement]:
        self.reads.append(tenant_number)
        if tenant_number in self.unreadable:
            raise RuntimeError("DynamoDB down")
        return super().movements(tenant_number)

    def get_movements(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Movement]:
        keys = list(keys)
        self.key_reads += keys
        if any(number in self.unreadable for number, _ in keys):
            raise RuntimeError("DynamoDB down")
        return super().get_movements(keys)

    def put_movements(self, movements: list[Movement]) -> list[Movement]:
        if any(m.reference in self.failing for m in movements):
            return list(movements)
        self.written += movements
        return super().put_movements(movements)


@pytest.fixture
def stores() -> Iterator[Stores]:
    twins = Stores(SpyTenancyStore(), MemoryDocumentStore(), MemoryImportStore())
    with (
        tenancy_store.override(twins.tenancy),
        document_store.override(twins.documents),
        import_store.override(twins.files),
    ):
        yield twins


def stored(stores: Stores, number: str = "123456") -> list[tuple[str, str, int, str]]:
    return sorted((m.date, m.label, m.amount_cents, m.reference) for m in stores.tenancy.movements(number))


DEMO = [
    "123456;01/01/2019;Report à nouveau;450,68;M-1",
    "00123456;2019-01-24;Loyer janvier 2019;220.00;M-2",
    "123456;05/02/2019;APL janvier 2019;-120,00;M-3",
    "123 456;10/02/2019;Virement;-100;M-4",
]


# ------------------------------------------------------------------ reading the file
def test_a_good_file_is_stored_and_flags_the_tenancy(stores):
    stores.known("123456")
    report = stores.run("movements", "m.csv", HEADER, DEMO)
    assert report == {
        "file": "imports/movements/m.csv",
        "kind": "movements",
        "status": "done",
        "rows_read": 4,
        "rows_accepted": 4,
        "rows_rejected": 0,
        "rejected": [],
        "documents_created": 0,
        "warnings": [],
    }
    assert stores.tenancy.reads == stores.tenancy.key_reads == []  # no tenancy had movements: nothing read
    assert stored(stores) == [
        ("2019-01-01", "Report à nouveau", 45068, "M-1"),
        ("2019-01-24", "Loyer janvier 2019", 22000, "M-2"),
        ("2019-02-05", "APL janvier 2019", -12000, "M-3"),
        ("2019-02-10", "Virement", -10000, "M-4"),
    ]
    assert stores.tenancy.get_tenancy("123456").has_movements is True
    assert stores.files.reports[("documents", "imports/reports/movements/m.json")] == report


def test_bad_rows_are_rejected_with_their_line_and_the_good_ones_kept(stores):
    stores.known("123456")
    report = stores.run(
        "movements",
        "m.csv",
        HEADER,
        [
            "123456;01/01/2019;Report à nouveau;450,68;M-1",
            "999999;01/01/2019;Report à nouveau;10,00;M-1",
            "123456;31/02/2019;Loyer;220,00;M-2",
            "123456;;Loyer;220,00;M-3",
            "123456;2019-02-24;Loyer;22O,00;M-4",
            "123456;2019-02-24;Loyer;;M-5",
            "123456;2019-02-24;Loyer;220,00;  ",
            "123456;2019-02-24;;220,00;M-6",
            "ABC DEF ;2019-02-24;Loyer;220,00;M-7",
            "123456;2019-02-24;Loyer;220,00;" + "R" * 101,
            "123456;2019-03-24;Loyer mars 2019;220,00;M-8",
        ],
    )
    assert reasons(report) == {
        3: "Numéro d'intitulé inconnu : 999999 (importez d'abord le fichier des locataires).",
        4: "Date invalide : « 31/02/2019 » (format attendu JJ/MM/AAAA ou AAAA-MM-JJ).",
        5: "Date (date) manquante.",
        6: "Montant invalide : « 22O,00 » (attendu par exemple 1234,56 ou -12.30).",
        7: "Montant (amount) manquant.",
        8: "Référence (reference) manquante : chaque mouvement doit avoir la sienne.",
        9: "Libellé (label) manquant.",
        10: "Numéro d'intitulé inconnu : ABCDEF (importez d'abord le fichier des locataires).",
        11: "Référence trop longue (100 caractères au plus).",
    }
    assert (report["rows_read"], report["rows_accepted"], report["rows_rejected"]) == (11, 2, 9)
    assert [r for *_, r in stored(stores)] == ["M-1", "M-8"]
    assert stores.tenancy.movements("999999") == []


def test_a_repeated_reference_is_a_duplicate_or_rejects_every_line_of_it(stores):
    stores.known("123456")
    report = stores.run(
        "movements",
        "m.csv",
        HEADER,
        [
            "123456;01/01/2019;Report à nouveau;450,68;M-1",
            "123456;2019-01-01;Report à nouveau;450.68;M-1",  # the same values, written otherwise
            "123456;24/01/2019;Loyer janvier 2019;220,00;M-2",
            "123456;25/01/2019;Loyer janvier;221,00;M-2",
            "123456;24/01/2019;Loyer janvier 2019;220,00;M-2",
            "123456;10/02/2019;Virement;-100,00;M-3",
        ],
    )
    assert reasons(report) == {
        3: "Ligne en double de la ligne 2 : ignorée pour ne pas compter le montant deux fois.",
        4: f"Référence « M-2 » reprise ligne 5 avec d'autres valeurs (date, libellé, montant) : {AGAIN}",
        5: f"Référence « M-2 » déjà présente ligne 4 avec d'autres valeurs (date, libellé, montant) : {AGAIN}",
        6: "Ligne en double de la ligne 4 : ignorée pour ne pas compter le montant deux fois.",
    }
    assert [r for *_, r in stored(stores)] == ["M-1", "M-3"]


def test_a_reference_is_unique_within_a_tenancy_only(stores):
    stores.known("111111")
    stores.known("222222")
    report = stores.run(
        "movements", "m.csv", HEADER, ["111111;01/01/2019;Virement;-10;V-1", "222222;01/01/2019;Virement;-20;V-1"]
    )
    assert report["rows_accepted"] == 2
    assert [m.amount_cents for m in stores.tenancy.movements("222222")] == [-2000]


# ------------------------------------------------------------------ re-imports and corrections
def test_importing_the_same_file_twice_writes_nothing_the_second_time(stores):
    stores.known("123456")
    first = stores.run("movements", "m.csv", HEADER, DEMO)
    assert len(stores.tenancy.written) == 4
    again = stores.run("movements", "m.csv", HEADER, DEMO)
    assert again == first
    assert len(stores.tenancy.written) == 4
    assert stores.tenancy.reads == []  # no query: the file's movements are read back by key
    assert sorted(stores.tenancy.key_reads) == [("123456", f"M-{i}") for i in range(1, 5)]


def test_a_known_reference_with_other_values_is_a_correction(stores):
    stores.known("123456")
    stores.run("movements", "m.csv", HEADER, DEMO)
    report = stores.run(
        "movements",
        "correction.csv",
        HEADER,
        [
            "123456;10/02/2019;Virement;-100,00;M-4",  # unchanged
            "123456;11/02/2019;Virement reçu;-110,00;M-4b",  # new
            "123456;05/02/2019;APL janvier 2019;-125,00;M-3",  # corrected amount
        ],
    )
    assert (report["rows_accepted"], report["rejected"], report["warnings"]) == (3, [], [])
    assert [m.reference for m in stores.tenancy.written[4:]] == ["M-4b", "M-3"]
    assert stored(stores)[2:] == [
        ("2019-02-05", "APL janvier 2019", -12500, "M-3"),
        ("2019-02-10", "Virement", -10000, "M-4"),
        ("2019-02-11", "Virement reçu", -11000, "M-4b"),
    ]
    assert len(stored(stores)) == 5  # a movement missing from a later file is kept


# ------------------------------------------------------------------ failures
def test_the_rows_of_a_failed_batch_are_rejected_and_none_of_it_written(stores, monkeypatch):
    monkeypatch.setattr(movements_import, "WRITE_BATCH", 2)
    for number in ("111111", "222222", "333333"):
        stores.known(number)
    stores.tenancy.failing = {"B-2"}
    rows = [
        f"{n};01/01/2019;Loyer;{i},00;{p}-{i}"
        for n, p in (("111111", "A"), ("222222", "B"), ("333333", "C"))
        for i in (1, 2)
    ]
    report = stores.run("movements", "m.csv", HEADER, rows)
    assert reasons(report) == {4: STORE_FAILURE, 5: STORE_FAILURE}
    assert report["rows_accepted"] == 4
    assert stores.tenancy.movements("222222") == []
    assert not stores.tenancy.get_tenancy("222222").has_movements
    assert len(stores.tenancy.movements("111111")) == len(stores.tenancy.movements("333333")) == 2
    stores.tenancy.failing = set()
    again = stores.run("movements", "m.csv", HEADER, rows)
    assert (again["rows_accepted"], again["rejected"]) == (6, [])
    assert len(stores.tenancy.movements("222222")) == 2


def test_a_batch_whose_movements_cannot_be_read_has_its_rows_rejected(stores, monkeypatch):
    monkeypatch.setattr(movements_import, "WRITE_BATCH", 1)
    stores.known("111111")
    stores.known("222222")
    stores.run("movements", "m.csv", HEADER, ["111111;01/01/2019;Loyer;1;A-1", "222222;01/01/2019;Loyer;1;B-1"])
    stores.tenancy.unreadable = {"111111"}
    report = stores.run(
        "movements", "m.csv", HEADER, ["111111;01/02/2019;Loyer;1;A-2", "222222;01/02/2019;Loyer;1;B-2"]
    )
    assert reasons(report) == {2: STORE_FAILURE}
    stores.tenancy.unreadable = set()
    assert [m.reference for m in stores.tenancy.movements("111111")] == ["A-1"]
    assert len(stores.tenancy.movements("222222")) == 2


def test_batches_never_split_a_tenancy(monkeypatch):
    monkeypatch.setattr(movements_import, "WRITE_BATCH", 3)
    rows = [MovementRow(i, n, "2019-01-01", "Loyer", 1, f"R{i}") for i, n in enumerate("AAAABBCDDD")]
    assert ["".join(r.tenant_number for r in batch) for batch in tenancy_batches(rows)] == ["AAAA", "BBC", "DDD"]


def test_store_transactions_hold_whole_tenancies_and_their_flags():
    def movements(number: str, count: int) -> list[Movement]:
        return [Movement(number, "2019-01-01", "Loyer", 1, f"R{i}") for i in range(count)]

    sizes = [
        [(n, len(part)) for n, part in transaction]
        for transaction in movement_transactions([*movements("1", 60), *movements("2", 39), *movements("3", 250)])
    ]
    assert sizes == [[("1", 60)], [("2", 39)], [("3", 99)], [("3", 99)], [("3", 52)]]
    assert all(sum(count + 1 for _, count in t) <= MOVEMENT_TRANSACTION for t in sizes)
    assert movement_transactions([*movements("1", 2), Movement("1", "2019-02-01", "Loyer", 5, "R0")]) == [
        [("1", [Movement("1", "2019-02-01", "Loyer", 5, "R0"), Movement("1", "2019-01-01", "Loyer", 1, "R1")])]
    ]


# ------------------------------------------------------------------ the other files' balances
def with_movements(stores: Stores, number: str = "123456") -> None:
    stores.known(number)
    stores.run("movements", "m.csv", HEADER, [row.replace("123456", number, 1) for row in DEMO])
    stores.tenancy.reads.clear()


def tenant(number: str, balance: str, first: str = "Jean") -> str:
    return f"{number};DUPOND;{first};1975-09-10;C1;T1;1 Rue A;93300;AUBERVILLIERS;{balance}"


def test_a_tenants_file_balance_that_disagrees_with_the_movements_is_a_warning(stores):
    with_movements(stores, "111111")
    with_movements(stores, "222222")
    with_movements(stores, "333333")
    stores.known("444444")
    report = stores.run(
        "tenants",
        "t.csv",
        TENANT_HEADER,
        [
            tenant("111111", "570,68;24/01/2019"),  # the movements say 670,68 € on that day
            tenant("111111", "570,68;24/01/2019", "Marie"),
            tenant("222222", "550,68;2019-02-06"),  # agrees
            tenant("333333", "10,00;31/12/2018"),  # before the first movement: not comparable
            tenant("444444", "10,00;31/12/2018"),  # no movements: nothing read
            tenant("555555", ";"),
        ],
    )
    assert report["warnings"] == [
        {
            "line": 2,
            "reason": "Solde de 570,68 € au 24/01/2019 différent de celui des mouvements du compte à cette date "
            "(670,68 €) : le locataire voit le solde des mouvements.",
        }
    ]
    assert (report["rows_accepted"], report["rejected"]) == (6, [])
    assert sorted(stores.tenancy.reads) == ["111111", "222222", "333333"]
    snapshot = stores.tenancy.get_tenancy("111111")  # the file's balance is still recorded
    assert (snapshot.balance_cents, snapshot.balance_date, snapshot.has_movements) == (57068, "2019-01-24", True)


def test_a_notices_file_balance_is_checked_once_per_value(stores):
    with_movements(stores)
    report = stores.run(
        "notices",
        "n.csv",
        NOTICE_HEADER,
        [
            rent("123456", balance="400,00;10/02/2019"),
            "123456;2019-05;24/05/2019;10/06/2019;Charges;charges;44,97;400,00;10/02/2019",
            rent("123456", "2019-06", balance="450,68;2019-02-10"),  # agrees
        ],
    )
    assert report["warnings"] == [
        {
            "line": 2,
            "reason": "Solde de 400,00 € au 10/02/2019 différent de celui des mouvements du compte à cette date "
            "(450,68 €) : le locataire voit le solde des mouvements.",
        }
    ]
    assert report["documents_created"] == 2
    assert stores.tenancy.reads == ["123456"]


def test_a_balance_check_that_cannot_read_the_movements_says_so(stores):
    with_movements(stores)
    stores.tenancy.unreadable = {"123456"}
    report = stores.run("tenants", "t.csv", TENANT_HEADER, [tenant("123456", "1,00;2019-05-01")])
    assert report["warnings"] == [
        {
            "line": 2,
            "reason": "Solde non comparé aux mouvements du compte (service momentanément indisponible) : "
            "déposez le fichier à nouveau pour le vérifier.",
        }
    ]
    assert report["rejected"] == []


def test_every_report_has_its_warnings(stores):
    stores.known("123456")
    assert stores.run("tenants", "t.csv", TENANT_HEADER, [])["warnings"] == []
    assert stores.run("notices", "n.csv", NOTICE_HEADER, [rent("123456")])["warnings"] == []
    broken = stores.run("movements", "m.csv", "tenant_number;date", [])
    assert (broken["status"], broken["warnings"]) == ("failed", [])


def test_the_running_balance_is_the_sum_of_the_movements_up_to_that_day():
    moves = [Movement("1", d, "x", a, d) for d, a in (("2019-01-01", 45068), ("2019-01-24", 22000))]
    assert balance_on(moves, "2018-12-31") is None
    assert balance_on(moves, "2019-01-01") == 45068
    assert balance_on(moves, "2019-01-24") == balance_on(moves, "2020-01-01") == 67068
