"""The admin imports' rules (contract section 5) against the in-memory stores: which rows are
accepted, which are rejected and why, which notices are created, which balances are kept and
what the notice worker is sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from oph.documents.store import document_store
from oph.imports.notice_batches import NOTICES_PER_MESSAGE
from oph.imports.service import import_object
from oph.imports.store import import_store
from oph.tenancy.model import Holder, Tenancy
from oph.tenancy.store import tenancy_store
from tests.twins.documents import MemoryDocumentStore
from tests.twins.imports import MemoryImportStore
from tests.twins.tenancy import MemoryTenancyStore

TENANT_HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)
NOTICE_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"
BUCKET = "documents"


@dataclass
class Stores:
    tenancy: MemoryTenancyStore
    documents: MemoryDocumentStore
    files: MemoryImportStore

    def run(self, kind: str, name: str, header: str, rows: list[str]) -> dict:
        key = f"imports/{kind}/{name}"
        self.files.files[(BUCKET, key)] = ("\n".join([header, *rows]) + "\n").encode("utf-8")
        return import_object(BUCKET, key)

    def known(self, number: str, **balance: object) -> None:
        self.tenancy.put_tenancy(Tenancy(number, "C1", "T1", "1 Rue A", "93300", "AUBERVILLIERS", **balance))
        self.tenancy.set_roster(number, [Holder(number, "DUPOND", "Jean", "1975-09-10")], [])


@pytest.fixture
def stores() -> Iterator[Stores]:
    twins = Stores(MemoryTenancyStore(), MemoryDocumentStore(), MemoryImportStore())
    with (
        tenancy_store.override(twins.tenancy),
        document_store.override(twins.documents),
        import_store.override(twins.files),
    ):
        yield twins


def reasons(report: dict) -> dict[int, str]:
    return {r["line"]: r["reason"] for r in report["rejected"]}


def rent(number: str, period: str = "2019-05", amount: str = "175,03", balance: str = ";") -> str:
    return f"{number};{period};24/05/2019;10/06/2019;Loyer;rent;{amount};{balance}"


# ------------------------------------------------------------------ tenants file
def test_co_holders_share_a_tenancy_and_a_row_that_differs_is_rejected(stores):
    report = stores.run(
        "tenants",
        "t.csv",
        TENANT_HEADER,
        [
            "123456;DUPOND;Jean;1975-09-10;C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
            "123456;DUPOND;Marie;1977-01-02;C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
            "123456;DUPOND;Paul;1999-01-02;C2;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
            "123456;DUPOND;Jean;10/09/1975;C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
        ],
    )
    assert reasons(report) == {
        4: "Contrat différent de la ligne 2 pour le même numéro d'intitulé (contrat « C2 » au lieu de « C1 ») : "
        "les cotitulaires partagent la même location.",
        5: "Ligne en double : ce titulaire figure déjà ligne 2.",
    }
    assert (report["rows_read"], report["rows_accepted"]) == (4, 2)
    assert sorted(h.first_name for h in stores.tenancy.list_holders("123456")) == ["Jean", "Marie"]
    tenancy = stores.tenancy.get_tenancy("123456")
    assert (tenancy.address_line1, tenancy.balance_cents, tenancy.balance_date) == ("10 Rue Hémet", 61068, "2019-05-23")
    [imported] = stores.tenancy.tenancies_for_import(["123456"]).values()
    assert [a.first_name for a in imported.addressees] == ["Jean", "Marie"]


@pytest.mark.parametrize(
    ("other", "reason"),
    [
        (
            "C1;T2;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
            "N° tiers différent de la ligne 2 pour le même numéro d'intitulé (N° tiers « T2 » au lieu de « T1 »)",
        ),
        (
            "C1;T1;12 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
            "Adresse différente de la ligne 2 pour le même numéro d'intitulé "
            "(adresse « 12 Rue Hémet » au lieu de « 10 Rue Hémet »)",
        ),
        (
            "C1;T1;10 Rue Hémet;93200;SAINT-DENIS;610,68;23/05/2019",
            "Code postal et ville différents de la ligne 2 pour le même numéro d'intitulé "
            "(code postal « 93200 » au lieu de « 93300 » ; ville « SAINT-DENIS » au lieu de « AUBERVILLIERS »)",
        ),
        (
            "C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;600,00;24/05/2019",
            "Solde et date du solde différents de la ligne 2 pour le même numéro d'intitulé "
            "(solde « 600,00 € » au lieu de « 610,68 € » ; date du solde « 24/05/2019 » au lieu de « 23/05/2019 »)",
        ),
        (
            "C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;;",
            "Solde et date du solde différents de la ligne 2 pour le même numéro d'intitulé "
            "(solde vide au lieu de « 610,68 € » ; date du solde vide au lieu de « 23/05/2019 »)",
        ),
        (
            "C1;T1;10 Rue Hémet;93300;Aubervilliers;610,68;23/05/2019",
            "Ville différente de la ligne 2 pour le même numéro d'intitulé "
            "(ville « Aubervilliers » au lieu de « AUBERVILLIERS »)",
        ),
        (
            "C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;2019-05-22",
            "Date du solde différente de la ligne 2 pour le même numéro d'intitulé "
            "(date du solde « 22/05/2019 » au lieu de « 23/05/2019 »)",
        ),
    ],
)
def test_a_co_holder_row_that_differs_names_the_fields_and_both_values(stores, other, reason):
    report = stores.run(
        "tenants",
        "t.csv",
        TENANT_HEADER,
        [
            "123456;DUPOND;Jean;1975-09-10;C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
            f"123456;DUPOND;Marie;1977-01-02;{other}",
        ],
    )
    assert reasons(report) == {3: f"{reason} : les cotitulaires partagent la même location."}


def test_the_report_is_written_under_both_names(stores):
    report = stores.run("tenants", "2019.csv", TENANT_HEADER, [])
    assert stores.files.reports[(BUCKET, "imports/reports/2019.json")] == report
    assert stores.files.reports[(BUCKET, "imports/reports/tenants/2019.json")] == report


def test_a_file_gone_or_in_an_unknown_folder_fails(stores):
    gone = import_object(BUCKET, "imports/notices/gone.csv")
    assert (gone["status"], gone["rows_read"]) == ("failed", 0)
    assert gone["reason"] == "Fichier introuvable dans le compartiment (supprimé avant l'import ?)."
    assert stores.files.reports[(BUCKET, "imports/reports/gone.json")] == gone
    elsewhere = import_object(BUCKET, "imports/other/x.csv")
    assert (elsewhere["status"], elsewhere["kind"]) == ("failed", "unknown")
    assert (BUCKET, "imports/reports/x.json") not in stores.files.reports


# ------------------------------------------------------------------ notices file
def test_a_notice_with_an_invalid_line_is_held_back_whole(stores):
    stores.known("123456")
    report = stores.run(
        "notices",
        "n.csv",
        NOTICE_HEADER,
        [
            rent("123456"),
            "123456;2019-05;24/05/2019;10/06/2019;Charges;charges;1O,00;;",  # letter O
            rent("123456", "2019-06"),
        ],
    )
    found = reasons(report)
    assert found[3].startswith("Montant invalide : « 1O,00 »")
    assert found[2] == (
        "Avis non publié : la ligne 3 du même avis (2019-05) est invalide ; corrigez-la et déposez le fichier à nouveau."
    )
    assert report["documents_created"] == 1
    assert [d.period for d in stores.documents.list("123456")] == ["2019-06"]


def test_other_dates_in_the_same_notice_hold_it_back(stores):
    stores.known("123456")
    report = stores.run(
        "notices",
        "n.csv",
        NOTICE_HEADER,
        [rent("123456"), "123456;2019-05;24/05/2019;11/06/2019;Charges;charges;10;;"],
    )
    assert reasons(report) == {
        3: "Dates d'émission ou limite différentes de la ligne 2 du même avis.",
        2: "Avis non publié : la ligne 3 du même avis (2019-05) est invalide ; "
        "corrigez-la et déposez le fichier à nouveau.",
    }
    assert report["documents_created"] == 0


def test_a_duplicate_line_is_counted_once(stores):
    stores.known("123456")
    report = stores.run("notices", "n.csv", NOTICE_HEADER, [rent("123456"), rent("123456")])
    assert reasons(report) == {3: "Ligne en double de la ligne 2 : ignorée pour ne pas compter le montant deux fois."}
    [notice] = stores.documents.list("123456")
    assert notice.amount_due_cents == 17503


def test_an_unknown_tenant_gets_no_notice(stores):
    stores.known("123456")
    report = stores.run("notices", "n.csv", NOTICE_HEADER, [rent("999999"), rent("123456")])
    assert reasons(report) == {2: "Numéro d'intitulé inconnu : 999999 (importez d'abord le fichier des locataires)."}
    assert stores.documents.list("999999") == []
    assert report["documents_created"] == 1


def test_a_notice_totals_its_lines_and_carries_them(stores):
    stores.known("00123456")
    report = stores.run(
        "notices",
        "n.csv",
        NOTICE_HEADER,
        [rent("123456", amount="1 175,03"), "123456;2019-05;2019-05-24;2019-06-10;APL;aid;-300,5;;"],
    )
    assert report["documents_created"] == 1
    [notice] = stores.documents.list("123456")
    assert (notice.title, notice.amount_due_cents, notice.due_date) == (
        "Avis d'échéance — mai 2019",
        87453,
        "2019-06-10",
    )
    assert [line["amount_cents"] for line in notice.extra["lines"]] == [117503, -30050]
    assert notice.s3_key == "tenants/123456/notices/avis-echeance-2019-05.pdf"


# ------------------------------------------------------------------ balances
def test_the_later_balance_of_the_file_wins_and_only_if_newer_than_the_stored_one(stores):
    stores.known("111111", balance_cents=100, balance_date="2019-06-01")
    stores.known("222222", balance_cents=100, balance_date="2019-05-01")
    stores.run(
        "notices",
        "n.csv",
        NOTICE_HEADER,
        [
            rent("111111", balance="50,00;2019-05-31"),  # older than the stored one: kept
            rent("222222", "2019-05", balance="70,00;2019-05-20"),
            rent("222222", "2019-06", balance="80,00;2019-05-25"),  # the file's latest
            rent("222222", "2019-07", balance="90,00;2019-05-22"),
        ],
    )
    assert stores.tenancy.get_tenancy("111111").balance_cents == 100
    assert stores.tenancy.get_tenancy("222222").balance_cents == 8000
    assert stores.tenancy.balance_sources["222222"] == "notices"


def test_on_a_tie_the_notices_file_wins(stores):
    stores.known("123456", balance_cents=100, balance_date="2019-06-01")
    stores.run("notices", "n.csv", NOTICE_HEADER, [rent("123456", balance="75,00;01/06/2019")])
    assert stores.tenancy.get_tenancy("123456").balance_cents == 7500


def test_a_notice_without_a_balance_prints_the_stored_one_dated_before_its_issue(stores):
    stores.known("111111", balance_cents=61068, balance_date="2019-05-23")
    stores.known("222222", balance_cents=100, balance_date="2019-05-25")
    stores.run("notices", "n.csv", NOTICE_HEADER, [rent("111111"), rent("222222")])
    [printed] = stores.documents.list("111111")
    [later] = stores.documents.list("222222")
    assert (printed.extra["balance_cents"], printed.extra["balance_date"]) == (61068, "2019-05-23")
    assert (later.extra["balance_cents"], later.extra["balance_date"]) == (None, None)


# ------------------------------------------------------------------ re-imports and the worker's messages
def test_importing_again_creates_nothing_and_sends_only_unrendered_notices(stores):
    stores.known("123456")
    first = stores.run("notices", "n.csv", NOTICE_HEADER, [rent("123456")])
    assert first["documents_created"] == 1 and len(stores.files.messages) == 1
    again = stores.run("notices", "n.csv", NOTICE_HEADER, [rent("123456")])
    assert (again["documents_created"], again["rows_accepted"]) == (0, 1)
    assert len(stores.files.messages) == 2  # never rendered: sent again
    [notice] = stores.documents.list("123456")
    stores.documents.mark_rendered(notice, "2019-05-24T08:00:00Z")
    stores.run("notices", "n.csv", NOTICE_HEADER, [rent("123456")])
    assert len(stores.files.messages) == 2


def test_messages_carry_whole_tenants_with_their_addressees(stores):
    numbers = [str(300000 + i) for i in range(60)]
    for number in numbers:
        stores.known(number)
    rows = [rent(n, period) for n in numbers for period in ("2019-05", "2019-06")]
    report = stores.run("notices", "n.csv", NOTICE_HEADER, rows)
    assert report["documents_created"] == 120
    sizes = [sum(len(t["documents"]) for t in m["tenants"]) for m in stores.files.messages]
    assert sizes == [NOTICES_PER_MESSAGE, 20]
    entry = stores.files.messages[0]["tenants"][0]
    assert entry["tenancy"] == {
        "contract_number": "C1",
        "third_party_number": "T1",
        "address_line1": "1 Rue A",
        "postal_code": "93300",
        "city": "AUBERVILLIERS",
    }
    assert [h["first_name"] for h in entry["holders"]] == ["Jean"]
    assert "birth_date" not in str(stores.files.messages)
    assert stores.files.messages[0]["file"] == "imports/notices/n.csv"
