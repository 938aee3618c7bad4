"""The movements import over HTTP against the local server (POST /_dev/imports/movements):
its report, a second import changing nothing, a correction, and the balance warnings."""

from __future__ import annotations

import secrets

import pytest

pytestmark = pytest.mark.e2e

TENANT_HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)
NOTICE_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"
MOVEMENT_HEADER = "tenant_number;date;label;amount;reference"


def upload(api, kind: str, name: str, lines: list[str]):
    reply = api.request(
        "POST",
        f"/_dev/imports/{kind}",
        query=f"name={name}",
        body=("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"),
        headers={"Content-Type": "text/csv"},
    )
    assert reply.status == 200, reply.text
    return reply.json()


def test_movements_import_report_then_again_changes_nothing(api):
    number = str(500000 + secrets.randbelow(99999))
    tenants = upload(
        api,
        "tenants",
        f"t-{number}.csv",
        [TENANT_HEADER, f"{number};LEBLANC;Hélène;02/03/1985;C{number};T{number};5 Rue Hémet;93300;AUBERVILLIERS;;"],
    )
    assert (tenants["rows_accepted"], tenants["warnings"]) == (1, [])
    rows = [
        MOVEMENT_HEADER,
        f"{number};01/01/2019;Report à nouveau;450,68;M-1",
        f"{number};24/01/2019;Loyer janvier 2019;220,00;M-2",
        f"{number};2019-02-05;APL janvier 2019;-120.00;M-3",
        f"{number};10/02/2019;Virement;-100,00;",
        "999999999;10/02/2019;Virement;-100,00;M-9",
    ]
    name = f"m-{number}.csv"
    report = upload(api, "movements", name, rows)
    assert report == {
        "file": f"imports/movements/{name}",
        "kind": "movements",
        "status": "done",
        "rows_read": 5,
        "rows_accepted": 3,
        "rows_rejected": 2,
        "rejected": [
            {"line": 5, "reason": "Référence (reference) manquante : chaque mouvement doit avoir la sienne."},
            {
                "line": 6,
                "reason": "Numéro d'intitulé inconnu : 999999999 (importez d'abord le fichier des locataires).",
            },
        ],
        "documents_created": 0,
        "warnings": [],
    }
    assert upload(api, "movements", name, rows) == report

    # the office corrects the transfer's reference and the APL: accepted, nothing rejected
    fixed = [
        *rows[:3],
        f"{number};05/02/2019;APL janvier 2019;-125,00;M-3",
        f"{number};10/02/2019;Virement;-100,00;M-4",
    ]
    corrected = upload(api, "movements", name, fixed)
    assert (corrected["rows_accepted"], corrected["rejected"], corrected["warnings"]) == (4, [], [])

    # 450,68 + 220,00 - 125,00 - 100,00 = 445,68 € on 10/02/2019: a file saying otherwise is warned about
    notice = f"{number};2019-02;24/02/2019;10/03/2019;Loyer;rent;220,00;{{}};10/02/2019"
    agreeing = upload(api, "notices", f"n-{number}.csv", [NOTICE_HEADER, notice.format("445,68")])
    assert (agreeing["documents_created"], agreeing["warnings"]) == (1, [])
    tenants_again = upload(
        api,
        "tenants",
        f"t-{number}.csv",
        [
            TENANT_HEADER,
            f"{number};LEBLANC;Hélène;02/03/1985;C{number};T{number};5 Rue Hémet;93300;AUBERVILLIERS;400,00;2019-02-10",
        ],
    )
    assert tenants_again["warnings"] == [
        {
            "line": 2,
            "reason": "Solde de 400,00 € au 10/02/2019 différent de celui des mouvements du compte à cette date "
            "(445,68 €) : le locataire voit le solde des mouvements.",
        }
    ]
    assert tenants_again["rows_accepted"] == 1
