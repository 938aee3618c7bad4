"""Admin imports and Mes documents over HTTP against the local server (POST /_dev/imports)."""

from __future__ import annotations

import secrets
import subprocess

import pytest
import requests

from tests.e2e.tenants import register_holder

pytestmark = pytest.mark.e2e

TENANT_HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)
NOTICE_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def upload(api, kind: str, name: str, text: str):
    return api.request(
        "POST",
        f"/_dev/imports/{kind}",
        query=f"name={name}",
        body=("\ufeff" + text).encode("utf-8"),
        headers={"Content-Type": "text/csv"},
    )


def register_and_log_in(api, number: str, last: str, first: str, birth: str) -> str:
    return register_holder(api, number, last, first, birth).access_token


def test_import_then_list_download_and_receipt(api):
    number = str(800000 + secrets.randbelow(99999))
    tenants = upload(
        api,
        "tenants",
        f"t-{number}.csv",
        f"{TENANT_HEADER}\n{number};LEBLANC;Hélène;02/03/1985;C{number};T{number};5 Rue Hémet;93300;AUBERVILLIERS;0,00;2019-04-30\n",
    )
    assert tenants.status == 200
    assert tenants.json() == {
        "file": f"imports/tenants/t-{number}.csv",
        "kind": "tenants",
        "status": "done",
        "rows_read": 1,
        "rows_accepted": 1,
        "rows_rejected": 0,
        "rejected": [],
        "documents_created": 0,
    }
    rows = "".join(
        f"{number};2019-05;24/05/2019;2019-06-10;{label};{cat};{amount};;\n"
        for label, cat, amount in (
            ("Loyer", "rent", "175,03"),
            ("Provisions charges", "charges", "44.97"),
            ("Loyer", "rent", "oops"),
        )
    )
    notices = upload(api, "notices", f"n-{number}.csv", NOTICE_HEADER + "\n" + rows)
    report = notices.json()
    assert (report["rows_read"], report["rows_accepted"], report["rows_rejected"]) == (3, 0, 3)
    assert report["documents_created"] == 0
    fixed = upload(api, "notices", f"n-{number}.csv", NOTICE_HEADER + "\n" + "\n".join(rows.splitlines()[:2]) + "\n")
    assert (fixed.json()["rows_accepted"], fixed.json()["documents_created"]) == (2, 1)
    assert (
        upload(api, "notices", f"n-{number}.csv", NOTICE_HEADER + "\n" + "\n".join(rows.splitlines()[:2])).json()[
            "documents_created"
        ]
        == 0
    )

    token = register_and_log_in(api, number, "LEBLANC", "Hélène", "1985-03-02")
    items = api.get("/v1/documents", token=token).json()["items"]
    assert [(i["type"], i["title"], i["amount_due_cents"]) for i in items] == [
        ("notice", "Avis d'échéance — mai 2019", 22000)
    ]
    link = api.get(f"/v1/documents/{items[0]['id']}/download", token=token).json()
    assert link["filename"] == "avis-echeance-2019-05.pdf" and link["expires_in"] == 300
    assert f"/tenants/{number}/" in link["url"]
    pdf = requests.get(link["url"], timeout=10)
    assert pdf.status_code == 200
    assert "attachment" in pdf.headers.get("Content-Disposition", "")
    text = pdf_text(pdf.content)
    assert number in text and "Mai 2019" in text and "Provisions charges" in text and "220,00 €" in text

    # the 0,00 € balance dated before the notice does not pay it
    assert api.post("/v1/documents/receipts", {"period": "2019-05"}, token=token).status == 422
