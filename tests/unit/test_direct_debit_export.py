"""The daily direct-debit export's rules against the twins (no AWS): the rows of a Paris day,
the IBAN decrypted only into the file, written once, nothing written when an IBAN cannot be
read or the vault is down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from oph.accounts.model import Account
from oph.payments import direct_debit
from oph.payments.adapters.iban_vault import IbanUnreadable
from oph.payments.direct_debit_export import (
    EXPORT_HEADER,
    checked_day,
    export_direct_debits,
    export_key,
    previous_paris_day,
    unique_entries,
)
from oph.payments.export_store import export_store
from oph.payments.mandate import CREATE, REVOKE, ExportEntry
from oph.platform import clock
from oph.platform.errors import ServiceUnavailable
from tests.factories import PASSWORD, make_account, make_tenant
from tests.twins.payment_exports import MemoryExportStore
from tests.twins.payments import PaymentsTwin, memory_payments

IBAN = "FR76 3000 6000 0112 3456 7890 189"
COMPACT = "FR7630006000011234567890189"


@pytest.fixture
def twin(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PaymentsTwin, MemoryExportStore]]:
    exports = MemoryExportStore()
    with memory_payments() as payments, export_store.override(exports):  # type: ignore[arg-type]
        yield payments, exports


def at(monkeypatch: pytest.MonkeyPatch, instant: str) -> None:
    stopped = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    monkeypatch.setattr(clock, "now_ts", lambda: stopped)


def holder(number: str, first_name: str = "Jean") -> Account:
    return make_account(make_tenant(number, "DUPOND", first_name, "1975-09-10"))


def sign(account: Account, iban: str = IBAN) -> str:
    body = direct_debit.sign_mandate(
        account, iban=iban, account_holder="DUPOND Jean", debit_day=5, accept_mandate=True, current_password=PASSWORD
    )
    return str(body["mandate_reference"])


def rows(exports: MemoryExportStore, day: str) -> list[list[str]]:
    body, content_type = exports.files[export_key(day)]
    assert content_type == "text/csv; charset=utf-8" and not body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8").split("\r\n")
    assert lines[0] == ";".join(EXPORT_HEADER) and lines[-1] == ""
    return [line.split(";") for line in lines[1:-1]]


def test_a_days_signatures_and_revocations_in_the_order_they_happened(twin, monkeypatch):
    _, exports = twin
    at(monkeypatch, "2019-05-28T08:00:00Z")
    jean, paul = holder("123456"), holder("222222", "Paul")
    at(monkeypatch, "2019-05-28T09:00:00Z")
    first = sign(jean)
    at(monkeypatch, "2019-05-28T10:00:00Z")
    second = sign(paul, "DE89 3704 0044 0532 0130 00")
    at(monkeypatch, "2019-05-28T11:00:00Z")
    direct_debit.revoke_mandate(jean, PASSWORD)
    result = export_direct_debits("2019-05-28")
    assert (result.written, result.rows, result.key) == (True, 3, "exports/direct-debit/2019-05-28.csv")
    assert rows(exports, "2019-05-28") == [
        [first, "123456", "DUPOND Jean", COMPACT, "5", "2019-05-28T09:00:00Z", CREATE],
        [second, "222222", "DUPOND Jean", "DE89370400440532013000", "5", "2019-05-28T10:00:00Z", CREATE],
        [first, "123456", "DUPOND Jean", COMPACT, "5", "2019-05-28T09:00:00Z", REVOKE],
    ]
    assert COMPACT not in repr(result.as_dict())


def test_the_index_is_by_paris_day(twin, monkeypatch):
    _, exports = twin
    at(monkeypatch, "2019-05-28T21:00:00Z")
    late, early = holder("123456"), holder("222222", "Paul")
    at(monkeypatch, "2019-05-28T21:59:59Z")
    late_ref = sign(late)
    at(monkeypatch, "2019-05-28T22:00:00Z")
    early_ref = sign(early)
    export_direct_debits("2019-05-28")
    export_direct_debits("2019-05-29")
    assert [r[0] for r in rows(exports, "2019-05-28")] == [late_ref]
    assert [r[0] for r in rows(exports, "2019-05-29")] == [early_ref]


def test_a_day_is_written_once(twin, monkeypatch):
    _, exports = twin
    at(monkeypatch, "2019-05-28T09:00:00Z")
    sign(holder("123456"))
    assert export_direct_debits("2019-05-28").written is True
    written = exports.files[export_key("2019-05-28")]
    # even if the index had more by then (it cannot once the day is over), the file stays
    at(monkeypatch, "2019-05-28T20:00:00Z")
    sign(holder("222222", "Paul"))
    again = export_direct_debits("2019-05-28")
    assert (again.written, again.rows, again.as_dict()["written"]) == (False, 0, [])
    assert exports.files[export_key("2019-05-28")] == written
    assert exports.attempts == [export_key("2019-05-28")] * 2


def test_an_unreadable_iban_or_a_vault_down_writes_nothing(twin, monkeypatch):
    payments, exports = twin
    at(monkeypatch, "2019-05-28T09:00:00Z")
    sign(holder("123456"))
    payments.vault.fail_next = 1
    with pytest.raises(ServiceUnavailable):
        export_direct_debits("2019-05-28")
    assert exports.files == {}
    [(sk, entry)] = payments.mandates.day_index["2019-05-28"].items()
    payments.mandates.day_index["2019-05-28"][sk] = ExportEntry(
        **{**entry.__dict__, "iban_ciphertext": "memory:bm90IGEgY2lwaGVydGV4dA=="}
    )
    with pytest.raises(IbanUnreadable):
        export_direct_debits("2019-05-28")
    assert exports.files == {}


def test_an_entry_given_twice_is_written_once():
    entry = ExportEntry("OPH-1-0001", "1", "A", "c", 5, "2019-05-28T09:00:00Z", CREATE)
    revoke = ExportEntry("OPH-1-0001", "1", "A", "c", 5, "2019-05-28T09:00:00Z", REVOKE)
    assert unique_entries([entry, entry, revoke, entry]) == [entry, revoke]


def test_the_default_day_is_yesterday_in_paris(monkeypatch):
    at(monkeypatch, "2019-05-28T22:45:00Z")  # 0 h 45 on the 29th in Paris
    assert previous_paris_day() == checked_day(None) == "2019-05-28"
    at(monkeypatch, "2019-12-31T23:45:00Z")  # 0 h 45 on 1 January in Paris (winter)
    assert checked_day(None) == "2019-12-31"


@pytest.mark.parametrize("day", ["2019-02-30", "28/05/2019", "2019-5-28", "2019-05-28T00:00:00Z", ""])
def test_a_bad_day_is_refused(day: Any):
    with pytest.raises(ValueError):
        checked_day(day)
