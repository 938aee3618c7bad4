"""The office reports back on mandates (contract section 8, ``imports/mandates/<name>.csv``)
through the real import function: S3 event -> import -> the mandate's status, the rejection
e-mail, the report (section 5 rules); and what the tenant then sees on
``GET /v1/payments/direct-debit``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from oph.tenancy.model import Holder
from oph.tenancy.store import tenancy_store
from tests.factories import Tenant, log_in, make_account, make_tenant, tenant_with_login
from tests.handlers.test_direct_debit_export import DIRECT_DEBIT, IBAN_COMPACT, at, revoke, sign, stopped_clock
from tests.handlers.test_import_support import csv_bytes, read_report, run_import

HEADER = "mandate_reference;status"
NONE_BODY = {
    "status": "none",
    "iban_masked": None,
    "account_holder": None,
    "debit_day": None,
    "mandate_reference": None,
    "signed_at": None,
    "document_id": None,
}


@pytest.fixture
def clock_offset(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    return stopped_clock(monkeypatch)


@pytest.fixture
def signed(client, clock_offset) -> tuple[Any, str]:
    """A holder who signed a mandate on 2019-05-28 (pending) and its reference."""
    at(clock_offset, "2019-05-28T12:05:00Z")
    _, login = tenant_with_login()
    reference = sign(client, login)["mandate_reference"]
    at(clock_offset, "2019-05-30T09:00:00Z")  # the office answers two days later
    return login, reference


def status_of(client: Any, login: Any) -> dict:
    reply = client.get(DIRECT_DEBIT, token=log_in(login.account).access_token)
    assert reply.status == 200
    return dict(reply.json())


def answer(runtime: Any, aws: Any, rows: list[str], name: str = "2019-05-30.csv") -> dict:
    return run_import(runtime, aws, "mandates", name, csv_bytes(HEADER, rows), pump=False)


def test_active_takes_the_mandate_on_and_the_same_file_twice_changes_nothing(runtime, aws, client, signed):
    login, reference = signed
    report = answer(runtime, aws, [f"{reference};active"])
    assert report == {
        "file": "imports/mandates/2019-05-30.csv",
        "kind": "mandates",
        "status": "done",
        "rows_read": 1,
        "rows_accepted": 1,
        "rows_rejected": 0,
        "rejected": [],
        "documents_created": 0,
        "warnings": [],
    }
    assert read_report(aws, "imports/reports/2019-05-30.json") == report
    assert read_report(aws, "imports/reports/mandates/2019-05-30.json") == report
    body = status_of(client, login)
    assert body["status"] == "active" and body["mandate_reference"] == reference
    assert answer(runtime, aws, [f"{reference};active"]) == report  # the same file again
    assert status_of(client, login) == body


def test_rejected_goes_back_to_none_tells_the_signer_once_and_a_new_mandate_may_be_signed(
    runtime, aws, client, signed, outbox
):
    login, reference = signed
    assert answer(runtime, aws, [f"{reference};rejected"])["rows_accepted"] == 1
    assert status_of(client, login) == NONE_BODY
    told = [m for m in outbox() if login.account.email in m["to"]]
    assert len(told) == 1
    assert told[0]["subject"] == "Votre prélèvement automatique n'a pas pu être mis en place"
    assert reference in told[0]["text"] and "FR76 **** **** **** **** ***0 189" in told[0]["text"]
    assert IBAN_COMPACT not in told[0]["text"] and "3000 6000 0112" not in told[0]["text"]
    # the same file again: accepted, nothing changes, no second e-mail
    again = answer(runtime, aws, [f"{reference};rejected"])
    assert (again["rows_accepted"], again["rejected"]) == (1, [])
    assert len([m for m in outbox() if login.account.email in m["to"]]) == 1
    # the tenant signs again: a new reference
    assert sign(client, login)["mandate_reference"] == reference[:-4] + "0002"


def test_revoked_ends_a_revocation_and_a_new_mandate_may_then_be_signed(runtime, aws, client, signed):
    login, reference = signed
    answer(runtime, aws, [f"{reference};active"])
    assert revoke(client, login)["status"] == "revocation_pending"
    # the office's answer of the day before arrives again: the revocation stays under way
    assert answer(runtime, aws, [f"{reference};active"], name="again.csv")["rows_accepted"] == 1
    assert status_of(client, login)["status"] == "revocation_pending"
    assert answer(runtime, aws, [f"{reference};revoked"], name="2019-05-31.csv")["rows_accepted"] == 1
    body = status_of(client, login)
    assert body["status"] == "revoked" and body["mandate_reference"] == reference
    assert sign(client, login)["mandate_reference"].endswith("-0002")


def test_unknown_references_and_statuses_and_impossible_answers_are_rejected_with_their_line(
    runtime, aws, client, signed, clock_offset
):
    login, reference = signed
    at(clock_offset, "2019-05-28T12:05:00Z")
    other = log_in(make_account(make_tenant()))
    other_reference = sign(client, other)["mandate_reference"]
    at(clock_offset, "2019-05-30T09:00:00Z")
    report = answer(
        runtime,
        aws,
        [
            f"{reference};active",
            "OPH-999999-0001;active",  # no such mandate
            f"{reference[:-1]}9;active",  # the tenancy's 9th mandate: none yet
            "123456;active",  # not a mandate reference
            f"{other_reference};suspendu",
            f"{other_reference};revoked",  # pending: not taken on, so it cannot be revoked
        ],
    )
    assert (report["rows_read"], report["rows_accepted"], report["rows_rejected"]) == (6, 1, 5)
    assert report["rejected"] == [
        {"line": 3, "reason": "Mandat inconnu : « OPH-999999-0001 » (aucun mandat n'a cette référence unique)."},
        {"line": 4, "reason": f"Mandat inconnu : « {reference[:-1]}9 » (aucun mandat n'a cette référence unique)."},
        {"line": 5, "reason": "Mandat inconnu : « 123456 » (aucun mandat n'a cette référence unique)."},
        {"line": 6, "reason": "Statut invalide : « suspendu » (attendu active, revoked ou rejected)."},
        {
            "line": 7,
            "reason": f"Le mandat {other_reference} est en attente de mise en place : il ne peut pas passer au "
            "statut « revoked ».",
        },
    ]
    assert status_of(client, login)["status"] == "active"
    assert status_of(client, other)["status"] == "pending"


def test_a_rejected_mandate_cannot_become_active_again(runtime, aws, client, signed, outbox):
    login, reference = signed
    answer(runtime, aws, [f"{reference};rejected"])
    report = answer(runtime, aws, [f"{reference};active"], name="late.csv")
    assert report["rejected"] == [
        {
            "line": 2,
            "reason": f"Le mandat {reference} est rejeté par la banque : il ne peut pas passer au statut « active ».",
        }
    ]
    assert status_of(client, login) == NONE_BODY


def test_a_co_holder_sees_the_answer_too(runtime, aws, client, signed):
    login, reference = signed
    tenancy = tenancy_store().get_tenancy(login.account.tenant_number)
    assert tenancy is not None
    marie = Holder(tenancy.tenant_number, "DUPOND", "Marie", "1977-01-02")
    tenancy_store().put_holder(marie)
    co_holder = log_in(make_account(Tenant(marie, tenancy)))
    answer(runtime, aws, [f"{reference};active"])
    assert status_of(client, co_holder)["status"] == "active"
    assert status_of(client, co_holder)["mandate_reference"] == reference
