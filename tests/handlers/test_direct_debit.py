"""GET/PUT/DELETE /v1/payments/direct-debit (contract section 8) through the real handler,
against moto (KMS included): bodies, every 422, the order 422 → 429 → 403 → 409/404,
co-holders, the document, the e-mails, the export's day index, the IBAN masked everywhere
(responses, e-mails, stored items), the GDPR export and account deletion."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from oph.platform import aws
from oph.platform.settings import get_settings
from tests.factories import PASSWORD, log_in, tenant_with_login
from tests.handlers.test_payments_support import co_holder_login

PATH = "/v1/payments/direct-debit"
IBAN = "FR14 2004 1010 0505 0001 3M02 606"
COMPACT = "FR1420041010050500013M02606"
MASKED = "FR14 **** **** **** **** ***2 606"
OTHER_IBAN = "DE89 3704 0044 0532 0130 00"
NONE = {
    "status": "none",
    "iban_masked": None,
    "account_holder": None,
    "debit_day": None,
    "mandate_reference": None,
    "signed_at": None,
    "document_id": None,
}


@pytest.fixture
def holder(runtime) -> tuple[Any, Any]:
    return tenant_with_login(last_name="DUPOND", first_name="Jean")


def form(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "iban": IBAN,
        "account_holder": "DUPOND Jean",
        "debit_day": 5,
        "accept_mandate": True,
        "current_password": PASSWORD,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def put(client: Any, login: Any, **overrides: Any) -> Any:
    return client.put(PATH, form(**overrides), token=login.access_token)


def delete(client: Any, login: Any, password: str = PASSWORD) -> Any:
    return client.delete(PATH, {"current_password": password}, token=login.access_token)


def problem(reply: Any, status: int, code: str) -> dict[str, Any]:
    assert reply.status == status, reply.text
    assert reply.header("Content-Type").startswith("application/problem+json")
    body = reply.json()
    assert body["code"] == code
    return body


def field_errors(reply: Any) -> dict[str, str]:
    body = problem(reply, 422, "validation_error")
    assert body["title"] == "Certains champs sont invalides."
    return {e["field"]: e["code"] for e in body["errors"]}


def scan_tenants() -> list[dict[str, Any]]:
    client = aws.dynamodb()
    items, kwargs = [], {"TableName": get_settings().tenants_table}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def no_full_iban(text: str) -> None:
    squeezed = "".join(text.split()).upper()
    assert COMPACT not in squeezed and "37040044053201300" not in squeezed, "a full IBAN leaked"


def mandate_mails(outbox: Any, address: str) -> list[dict[str, Any]]:
    return [m for m in outbox() if address in m["to"] and "prélèvement" in m["subject"]]


# ---------------------------------------------------------------- GET and PUT
def test_no_mandate_is_status_none_with_every_field_null(client, holder):
    _, login = holder
    reply = client.get(PATH, token=login.access_token)
    assert reply.status == 200 and reply.json() == NONE


def test_the_route_needs_a_token(client, runtime):
    problem(client.get(PATH), 401, "unauthorized")
    problem(client.put(PATH, form()), 401, "unauthorized")


def test_signing_answers_201_with_the_mandate_and_lists_its_pdf(client, holder, outbox):
    tenant, login = holder
    reply = put(client, login)
    assert reply.status == 201, reply.text
    body = reply.json()
    number = tenant.holder.tenant_number
    assert body["status"] == "pending" and body["iban_masked"] == MASKED
    assert (body["account_holder"], body["debit_day"]) == ("DUPOND Jean", 5)
    assert body["mandate_reference"] == f"OPH-{number}-0001"
    assert body["signed_at"].endswith("Z") and body["document_id"]
    assert client.get(PATH, token=login.access_token).json() == body
    # "Mes documents": listed as a mandate, downloadable under its contract file name.
    [document] = client.get("/v1/documents", query="type=mandate", token=login.access_token).json()["items"]
    assert document["id"] == body["document_id"] and document["type"] == "mandate"
    assert document["title"] == f"Mandat de prélèvement SEPA — OPH-{number}-0001"
    download = client.get(f"/v1/documents/{body['document_id']}/download", token=login.access_token).json()
    assert download["filename"] == f"mandat-sepa-OPH-{number}-0001.pdf"
    # The confirmation e-mail, the IBAN masked.
    [mail] = mandate_mails(outbox, login.account.email)
    assert mail["subject"] == "Votre mandat de prélèvement automatique est enregistré"
    assert mail["text"].startswith("Bonjour Jean DUPOND,") and MASKED in mail["text"]
    assert f"OPH-{number}-0001" in mail["text"]
    no_full_iban(mail["text"] + mail["html"] + reply.text)


def test_the_iban_is_stored_only_encrypted_and_bound_to_its_mandate(client, holder):
    tenant, login = holder
    reference = put(client, login).json()["mandate_reference"]
    items = scan_tenants()
    no_full_iban(json.dumps(items))
    number = tenant.holder.tenant_number
    [current] = [i for i in items if i["pk"]["S"] == f"TENANT#{number}" and i["sk"]["S"] == "MANDATE"]
    blob = base64.b64decode(current["iban_ciphertext"]["S"])
    kms = aws.client("kms")
    context = {"tenant_number": number, "mandate_reference": reference}
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)["Plaintext"] == COMPACT.encode()
    with pytest.raises(Exception, match="InvalidCiphertext"):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={**context, "mandate_reference": "OPH-1-0001"})
    [line] = [i for i in items if i["pk"]["S"].startswith("MANDATES#")]
    assert (line["mandate_reference"]["S"], line["action"]["S"]) == (reference, "create")
    assert line["iban_ciphertext"] == current["iban_ciphertext"]


def test_co_holders_see_the_same_mandate_and_cannot_sign_a_second(client, holder):
    tenant, login = holder
    body = put(client, login).json()
    marie = co_holder_login(tenant)
    assert client.get(PATH, token=marie.access_token).json() == body
    problem(put(client, marie, iban=OTHER_IBAN), 409, "direct_debit_exists")
    problem(put(client, login), 409, "direct_debit_exists")


def test_another_tenancy_sees_nothing(client, holder):
    _, login = holder
    put(client, login)
    _, stranger = tenant_with_login()
    assert client.get(PATH, token=stranger.access_token).json() == NONE


# ---------------------------------------------------------------- 422
def test_every_failing_field_is_listed(client, holder, outbox):
    _, login = holder
    reply = put(
        client,
        login,
        iban="FR76 3000 6000 0112 3456 7890 188",
        account_holder="",
        debit_day=7,
        accept_mandate=False,
        current_password="",
    )
    assert field_errors(reply) == {
        "iban": "invalid_format",
        "account_holder": "required",
        "debit_day": "invalid_format",
        "accept_mandate": "mandate_not_accepted",
        "current_password": "required",
    }
    messages = {e["field"]: e["message"] for e in reply.json()["errors"]}
    assert messages["accept_mandate"] == "Vous devez accepter le mandat de prélèvement SEPA pour le signer."
    assert messages["debit_day"] == "Le jour de prélèvement doit être le 5, le 10 ou le 15 du mois."
    assert client.get(PATH, token=login.access_token).json() == NONE
    assert mandate_mails(outbox, login.account.email) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"iban": "GB82 WEST 1234 5698 7654 33"}, {"iban": "invalid_format"}),  # wrong key
        ({"iban": "US64SVBKUS6S3300967386"}, {"iban": "invalid_format"}),  # outside SEPA
        ({"iban": "FR14 2004 1010 0505 0001 3M02 60"}, {"iban": "invalid_format"}),  # length
        ({"iban": 1420041010}, {"iban": "invalid_format"}),
        ({"debit_day": "5"}, {"debit_day": "invalid_format"}),
        ({"debit_day": 5.5}, {"debit_day": "invalid_format"}),
        ({"debit_day": None}, {"debit_day": "invalid_format"}),
        ({"debit_day": 20}, {"debit_day": "invalid_format"}),
        ({"accept_mandate": "yes"}, {"accept_mandate": "mandate_not_accepted"}),
        ({"accept_mandate": None}, {"accept_mandate": "mandate_not_accepted"}),
        ({"account_holder": "X" * 71}, {"account_holder": "invalid_format"}),
        ({"iban": ...}, {"iban": "required"}),
        ({"debit_day": ..., "accept_mandate": ...}, {"debit_day": "required", "accept_mandate": "required"}),
        ({"current_password": ...}, {"current_password": "required"}),
        ({"rib": "x"}, {"rib": "unknown_field"}),
    ],
)
def test_each_field_has_its_code(client, holder, overrides, expected):
    _, login = holder
    assert field_errors(put(client, login, **overrides)) == expected


def test_a_body_that_is_not_an_object_is_422_on_body(client, holder):
    _, login = holder
    reply = client.put(PATH, body="[1]", headers={"Content-Type": "application/json"}, token=login.access_token)
    assert field_errors(reply) == {"body": "invalid_format"}


def test_spaces_and_case_do_not_matter(client, holder):
    _, login = holder
    reply = put(client, login, iban=" fr1420041010050500013m02606 ", debit_day=15)
    assert reply.status == 201 and reply.json()["iban_masked"] == MASKED and reply.json()["debit_day"] == 15


# ---------------------------------------------------------------- 429, 403, 409, 404
def lock(client: Any, email: str) -> None:
    for _ in range(5):
        assert client.post("/v1/auth/login", {"email": email, "password": "Mauvais-Passe-1"}).status == 401


def test_the_login_lock_answers_429_before_the_password_but_after_422(client, holder):
    _, login = holder
    lock(client, login.account.email)
    for password in (PASSWORD, "Mauvais-Passe-1"):
        reply = put(client, login, current_password=password)
        problem(reply, 429, "too_many_requests")
        assert int(reply.header("Retry-After")) >= 1
        problem(delete(client, login, password), 429, "too_many_requests")
    field_errors(put(client, login, debit_day=1))  # validation still comes first
    assert client.get(PATH, token=login.access_token).json() == NONE


def test_a_wrong_password_is_403_and_signs_nothing(client, holder):
    _, login = holder
    body = problem(put(client, login, current_password="Mauvais-Passe-1"), 403, "current_password_invalid")
    assert body["title"] == "Le mot de passe actuel est incorrect."
    assert client.get(PATH, token=login.access_token).json() == NONE
    assert [i for i in scan_tenants() if i["pk"]["S"].startswith("MANDATES#")] == []


def test_409_while_pending_and_while_revocation_pending(client, holder):
    _, login = holder
    assert put(client, login).status == 201
    body = problem(put(client, login, iban=OTHER_IBAN), 409, "direct_debit_exists")
    assert "prélèvement automatique" in body["title"]
    assert delete(client, login).status == 200
    problem(put(client, login, iban=OTHER_IBAN), 409, "direct_debit_exists")


def test_revoking_answers_200_revocation_pending_then_404(client, holder, outbox):
    _, login = holder
    signed = put(client, login).json()
    reply = delete(client, login)
    assert reply.status == 200, reply.text
    assert reply.json() == {**signed, "status": "revocation_pending"}
    assert client.get(PATH, token=login.access_token).json() == reply.json()
    problem(delete(client, login), 404, "not_found")
    actions = sorted(i["action"]["S"] for i in scan_tenants() if i["pk"]["S"].startswith("MANDATES#"))
    assert actions == ["create", "revoke"]
    mail = mandate_mails(outbox, login.account.email)[-1]
    assert mail["subject"] == "Votre demande d'arrêt du prélèvement automatique"
    assert MASKED in mail["text"]
    no_full_iban(mail["text"] + mail["html"])


def test_revoking_without_a_mandate_is_404_and_the_password_is_checked_first(client, holder):
    _, login = holder
    problem(delete(client, login, "Mauvais-Passe-1"), 403, "current_password_invalid")
    problem(delete(client, login), 404, "not_found")
    assert field_errors(client.delete(PATH, {"current_password": ""}, token=login.access_token)) == {
        "current_password": "required"
    }
    assert field_errors(client.delete(PATH, {}, token=login.access_token)) == {"current_password": "required"}


def test_a_co_holder_may_revoke_and_the_signer_is_told(client, holder, outbox):
    tenant, login = holder
    put(client, login)
    marie = co_holder_login(tenant)
    assert delete(client, marie).json()["status"] == "revocation_pending"
    assert "Vous avez demandé" in mandate_mails(outbox, marie.account.email)[-1]["text"]
    assert "Un cotitulaire de votre bail" in mandate_mails(outbox, login.account.email)[-1]["text"]


# ---------------------------------------------------------------- the GDPR export, account deletion
def test_the_gdpr_export_shows_the_mandate_masked(client, holder):
    _, login = holder
    signed = put(client, login).json()
    reply = client.get("/v1/account/export", token=login.access_token)
    assert reply.status == 200
    section = reply.json()["direct_debit"]
    assert section["current"] == signed
    assert [m["iban_masked"] for m in section["signed_by_you"]] == [MASKED]
    no_full_iban(reply.text)
    assert "ciphertext" not in reply.text


def test_deleting_the_account_keeps_the_mandate_without_its_signer(client, holder):
    tenant, login = holder
    signed = put(client, login).json()
    marie = co_holder_login(tenant)
    assert client.delete("/v1/account", {"current_password": PASSWORD}, token=login.access_token).status == 204
    assert client.get(PATH, token=marie.access_token).json() == signed
    [current] = [
        i
        for i in scan_tenants()
        if i["pk"]["S"] == f"TENANT#{tenant.holder.tenant_number}" and i["sk"]["S"] == "MANDATE"
    ]
    assert "signed_by" not in current and current["status"]["S"] == "pending"


def test_a_session_of_a_disabled_account_cannot_sign(client, holder):
    _, login = holder
    from oph.accounts.account_store import AccountStore
    from oph.platform.transaction import Transaction

    Transaction(AccountStore().disable_item(login.account.account_id, "admin", "2026-01-01T00:00:00Z")).commit()
    problem(put(client, login), 403, "account_disabled")
    fresh = log_in(login.account)
    problem(client.get(PATH, token=fresh.access_token), 403, "account_disabled")
