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
        ["pdftotext", "-layout", "-nodiag", "-", "-"], input=data, capture_output=True, check=True
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
        "warnings": [],
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


MOVEMENT_HEADER = "tenant_number;date;label;amount;reference"


def test_statement_pdf_created_listed_and_downloaded(api):
    number = str(810000 + secrets.randbelow(9999))
    tenants = upload(
        api,
        "tenants",
        f"t-{number}.csv",
        f"{TENANT_HEADER}\n{number};MARTIN;Paul;04/05/1980;C{number};T{number};8 Rue Hémet;93300;AUBERVILLIERS;0,00;2019-01-01\n",
    )
    assert tenants.status == 200
    movements = upload(
        api,
        "movements",
        f"m-{number}.csv",
        MOVEMENT_HEADER
        + "\n"
        + "".join(
            f"{number};{day};{label};{amount};{ref}\n"
            for day, label, amount, ref in (
                ("31/12/2018", "Report à nouveau", "390,68", "M-1"),
                ("24/01/2019", "Loyer janvier 2019", "220,00", "M-2"),
                ("05/02/2019", "APL janvier 2019", "-120,00", "M-3"),
                ("05/05/2019", "Virement", "-180,00", "M-4"),
            )
        ),
    )
    assert movements.status == 200, movements.text
    assert movements.json()["rows_accepted"] == 4
    token = register_and_log_in(api, number, "MARTIN", "Paul", "1980-05-04")

    created = api.post("/v1/documents/statements", {"from": "2019-01-01", "to": "2019-05-31"}, token=token)
    assert created.status == 201, created.text
    item = created.json()
    assert (item["type"], item["title"], item["period"]) == (
        "statement",
        "Relevé de compte — du 01/01/2019 au 31/05/2019",
        None,
    )
    again = api.post("/v1/documents/statements", {"from": "2019-01-01", "to": "2019-05-31"}, token=token)
    assert (again.status, again.json()) == (200, item)
    assert api.get("/v1/documents", query="type=statement", token=token).json()["items"] == [item]
    bad = api.post("/v1/documents/statements", {"from": "2016-01-01", "to": "2019-05-31"}, token=token)
    assert bad.status == 422 and bad.json()["errors"][0]["code"] == "range_too_long"

    link = api.get(f"/v1/documents/{item['id']}/download", token=token).json()
    assert link["filename"] == "releve-compte-2019-01-01-2019-05-31.pdf"
    pdf = requests.get(link["url"], timeout=10)
    assert pdf.status_code == 200 and "attachment" in pdf.headers.get("Content-Disposition", "")
    text = pdf_text(pdf.content)
    assert "RELEVÉ DE COMPTE" in text and "MARTIN Paul" in text and f"C{number}" in text
    assert next(r for r in text.splitlines() if "Virement" in r).rstrip().endswith("310,68 €")
    assert [r for r in text.splitlines() if "Solde au 31/05/2019" in r][-1].rstrip().endswith("310,68 €")

    stranger = register_and_log_in_fresh(api)
    assert api.get(f"/v1/documents/{item['id']}/download", token=stranger).status == 404


def register_and_log_in_fresh(api) -> str:
    from tests.e2e.tenants import register_tenant

    return register_tenant(api, prefix="stranger").access_token


def test_the_demo_notice_is_the_offices(api):
    """The seed's avis d'échéance (the demo tenant, contract section 7) as the office prints it."""
    token = register_and_log_in(api, "123456", "DUPOND", "Jean", "1975-09-10")
    notices = api.get("/v1/documents", query="type=notice", token=token).json()["items"]
    may = next(n for n in notices if n["period"] == "2019-05")
    assert (may["amount_due_cents"], may["due_date"], may["issued_on"]) == (22000, "2019-06-10", "2019-05-24")
    link = api.get(f"/v1/documents/{may['id']}/download", token=token).json()
    text = pdf_text(requests.get(link["url"], timeout=10).content)
    labels = [
        ("Loyer Foyer", "175,03 €"),
        ("Prov.Charges Générales LG", "7,76 €"),
        ("Prov.Charges Générales SH", "14,72 €"),
        ("Prov.Chauffage", "19,55 €"),
        ("Prov.Divers AppareilsChauffage", "2,94 €"),
    ]
    positions = [text.index(label) for label, _ in labels]
    assert positions == sorted(positions)
    for label, amount in labels:
        assert next(r for r in text.splitlines() if label in r).rstrip().endswith(amount), label
    assert next(r for r in text.splitlines() if "TOTAL DE L'ÉCHÉANCE" in r).rstrip().endswith("220,00 €")
    assert next(r for r in text.splitlines() if "Solde au 23/05/2019" in r).rstrip().endswith("610,68 €")
    assert next(r for r in text.splitlines() if r.strip().startswith("Net à payer")).rstrip().endswith("830,68 €")
    assert "Référence : 123456-2019-05" in " ".join(text.split())
