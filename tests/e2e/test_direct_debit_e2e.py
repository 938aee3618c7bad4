"""Direct debit over HTTP against the local server (KMS in the embedded moto): two co-holders
signing at the same instant get one mandate (one 201, one 409), and the mandate's whole life
as a tenant sees it: signed, listed as a document, masked everywhere, revoked."""

from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest

from tests.e2e.tenants import register_holder

pytestmark = pytest.mark.e2e

PATH = "/v1/payments/direct-debit"
PASSWORD = "Correct-Cheval-Pile-42"
TENANT_HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)
IBANS = {"jean": "FR14 2004 1010 0505 0001 3M02 606", "marie": "DE89 3704 0044 0532 0130 00"}
COMPACTS = ("FR1420041010050500013M02606", "DE89370400440532013000")
ROUNDS = 3


def co_holders(api: Any) -> tuple[str, dict[str, str]]:
    """A tenancy of two holders, both registered and logged in: (tenant number, tokens)."""
    number = str(600000 + secrets.randbelow(99999))
    rows = (
        f"{number};DUPOND;Jean;1975-09-10;C{number};T{number};10 Rue Hémet;93300;AUBERVILLIERS;0,00;2019-05-23\n"
        f"{number};DUPOND;Marie;1977-01-02;C{number};T{number};10 Rue Hémet;93300;AUBERVILLIERS;0,00;2019-05-23\n"
    )
    imported = api.request(
        "POST",
        "/_dev/imports/tenants",
        query=f"name=dd-{number}.csv",
        body=f"{TENANT_HEADER}\n{rows}".encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert imported.status == 200 and imported.json()["rows_rejected"] == 0, imported.text
    tokens = {
        "jean": register_holder(api, number, "DUPOND", "Jean", "1975-09-10", prefix="dd").access_token,
        "marie": register_holder(api, number, "DUPOND", "Marie", "1977-01-02", prefix="dd").access_token,
    }
    return number, tokens


def sign(api: Any, token: str, who: str) -> Any:
    body = {
        "iban": IBANS[who],
        "account_holder": f"DUPOND {who.capitalize()}",
        "debit_day": 5 if who == "jean" else 15,
        "accept_mandate": True,
        "current_password": PASSWORD,
    }
    return api.put(PATH, body, token=token)


def at_once(*calls: Any) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # surfaced below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for result in results:
        assert not isinstance(result, Exception), repr(result)
    return results


def no_full_iban(text: str) -> None:
    squeezed = "".join(text.split()).upper()
    for compact in COMPACTS:
        assert compact not in squeezed, "a full IBAN leaked"


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_co_holders_signing_at_once_get_one_mandate(api, round_):
    number, tokens = co_holders(api)
    replies = at_once(lambda: sign(api, tokens["jean"], "jean"), lambda: sign(api, tokens["marie"], "marie"))
    assert sorted(r.status for r in replies) == [201, 409], [r.text for r in replies]
    [won] = [r for r in replies if r.status == 201]
    [lost] = [r for r in replies if r.status == 409]
    assert lost.json()["code"] == "direct_debit_exists"
    mandate = won.json()
    assert mandate["mandate_reference"] == f"OPH-{number}-0001" and mandate["status"] == "pending"
    # Both co-holders see the one mandate, with the winner's details.
    for token in tokens.values():
        assert api.get(PATH, token=token).json() == mandate
    # One document, the winner's.
    documents = api.get("/v1/documents", query="type=mandate", token=tokens["jean"]).json()["items"]
    assert [d["id"] for d in documents] == [mandate["document_id"]]
    # One confirmation e-mail, to the winner only.
    subject = "Votre mandat de prélèvement automatique est enregistré"
    confirmations = [m for m in api.outbox() if m["subject"] == subject and mandate["mandate_reference"] in m["text"]]
    assert len(confirmations) == 1
    no_full_iban(won.text + lost.text + "".join(m["text"] + m["html"] for m in confirmations))


def test_a_mandate_from_signature_to_revocation(api):
    number, tokens = co_holders(api)
    none = api.get(PATH, token=tokens["jean"]).json()
    assert none["status"] == "none" and set(none.values()) == {"none", None}
    signed = sign(api, tokens["jean"], "jean")
    assert signed.status == 201, signed.text
    body = signed.json()
    assert body["iban_masked"] == "FR14 **** **** **** **** ***2 606"
    download = api.get(f"/v1/documents/{body['document_id']}/download", token=tokens["jean"]).json()
    assert download["filename"] == f"mandat-sepa-OPH-{number}-0001.pdf"
    assert sign(api, tokens["marie"], "marie").status == 409
    revoked = api.delete(PATH, {"current_password": PASSWORD}, token=tokens["marie"])
    assert revoked.status == 200 and revoked.json() == {**body, "status": "revocation_pending"}
    assert api.delete(PATH, {"current_password": PASSWORD}, token=tokens["jean"]).status == 404
    assert sign(api, tokens["jean"], "jean").status == 409  # while revocation_pending
    exported = api.get("/v1/account/export", token=tokens["jean"])
    assert exported.json()["direct_debit"]["current"]["status"] == "revocation_pending"
    no_full_iban(exported.text + signed.text + revoked.text)
