"""The direct-debit round trip over HTTP against the local server (contract sections 7 and 8):
a tenant signs a mandate, the scheduled export is run through ``POST /_dev/jobs/...`` and read
back through ``GET /_dev/files/...`` (the IBAN in clear there only), the office reports back
through ``POST /_dev/imports/mandates``, and the tenant sees the mandate active.

The server's clock is moved to a day of its own (years ahead, a random day), so that the day's
export, written once, holds this test's mandate only, whatever ran before on the same server.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.tenants import register_tenant

pytestmark = pytest.mark.e2e

IBAN = "FR76 3000 6000 0112 3456 7890 189"
IBAN_COMPACT = "FR7630006000011234567890189"
HEADER = "mandate_reference;tenant_number;account_holder;iban;debit_day;signed_at;action"


def own_day(api) -> str:
    """Move the server to 10:00 (Paris, summer) on a day no other run uses; returns that day."""
    day = datetime(2031, 5, 1, 8, 0, tzinfo=UTC) + timedelta(days=secrets.randbelow(3000))
    api.set_clock(day.timestamp() - time.time())
    return day.date().isoformat()


def test_sign_export_report_back_active(api):
    day = own_day(api)
    tenant = register_tenant(api, last_name="DUPOND", first_name="Jean", birth_date="1975-09-10", prefix="dd")
    token = tenant.access_token
    signed = api.put(
        "/v1/payments/direct-debit",
        {
            "iban": IBAN,
            "account_holder": "DUPOND Jean",
            "debit_day": 5,
            "accept_mandate": True,
            "current_password": "Correct-Cheval-Pile-42",
        },
        token=token,
    )
    assert signed.status == 201, signed.text
    mandate = signed.json()
    reference = mandate["mandate_reference"]
    assert (mandate["status"], mandate["iban_masked"]) == ("pending", "FR76 **** **** **** **** ***0 189")
    assert reference == f"OPH-{tenant.tenant_number}-0001"
    assert mandate["signed_at"].startswith(day)
    assert IBAN_COMPACT not in signed.text

    # the mandate's PDF is in Mes documents
    listed = api.get("/v1/documents", query="type=mandate", token=token).json()["items"]
    assert [(d["type"], d["title"], d["issued_on"]) for d in listed] == [
        ("mandate", f"Mandat de prélèvement SEPA — {reference}", day)
    ]

    # the scheduled export of that day, run now through the scheduler's handler and event
    key = f"exports/direct-debit/{day}.csv"
    ran = api.post("/_dev/jobs/direct-debit-export", {"day": day})
    assert (ran.status, ran.json()) == (200, {"written": [key]})
    exported = api.get(f"/_dev/files/{key}")
    assert exported.status == 200 and exported.header("Content-Type") == "text/csv; charset=utf-8"
    lines = exported.text.split("\r\n")
    assert lines[0] == HEADER and lines[-1] == ""
    assert lines[1:-1] == [
        f"{reference};{tenant.tenant_number};DUPOND Jean;{IBAN_COMPACT};5;{mandate['signed_at']};create"
    ]
    # written once: a second run writes nothing and the file is unchanged
    assert api.post("/_dev/jobs/direct-debit-export", {"day": day}).json() == {"written": []}
    assert api.get(f"/_dev/files/{key}").body == exported.body

    # the office reports back: taken on
    report = api.request(
        "POST",
        "/_dev/imports/mandates",
        query=f"name=dd-{reference}.csv",
        body=f"mandate_reference;status\n{reference};active\n".encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert report.status == 200, report.text
    assert report.json() == {
        "file": f"imports/mandates/dd-{reference}.csv",
        "kind": "mandates",
        "status": "done",
        "rows_read": 1,
        "rows_accepted": 1,
        "rows_rejected": 0,
        "rejected": [],
        "documents_created": 0,
        "warnings": [],
    }
    now = api.get("/v1/payments/direct-debit", token=token)
    assert now.status == 200
    assert {k: now.json()[k] for k in ("status", "mandate_reference", "iban_masked", "debit_day")} == {
        "status": "active",
        "mandate_reference": reference,
        "iban_masked": "FR76 **** **** **** **** ***0 189",
        "debit_day": 5,
    }
    # the IBAN in clear went nowhere else: not in an e-mail
    assert not [m for m in api.outbox() if IBAN_COMPACT in m["text"] or "3000 6000 0112" in m["text"]]


def test_the_dev_jobs_and_files_endpoints(api):
    day = own_day(api)
    # the default day is yesterday (Paris) by the server's clock
    yesterday = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    assert api.post("/_dev/jobs/direct-debit-export").json() == {"written": [f"exports/direct-debit/{yesterday}.csv"]}
    assert api.get(f"/_dev/files/exports/direct-debit/{yesterday}.csv").text == HEADER + "\r\n"
    assert api.post("/_dev/jobs/payments-export", {"day": day}).json() == {"written": [f"exports/payments/{day}.csv"]}
    assert api.post("/_dev/jobs/expire-payments").json() == {"written": []}

    missing = api.get("/_dev/files/exports/direct-debit/1999-01-01.csv")
    assert missing.status == 404 and missing.header("Content-Type") == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    unknown = api.post("/_dev/jobs/rent-increase")
    assert (unknown.status, unknown.json()["code"]) == (404, "not_found")
    bad = api.post("/_dev/jobs/direct-debit-export", {"day": "2019-02-30"})
    assert (bad.status, bad.json()["errors"][0]["field"]) == (422, "day")
