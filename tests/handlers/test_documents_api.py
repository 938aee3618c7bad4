"""Mes documents through the notices function: listing, download links, quittances/reçus."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from oph.accounts.account_store import account_item
from oph.platform import aws as oph_aws
from oph.platform.aws import dynamo
from oph.platform.settings import get_settings
from tests.factories import tenant_with_login
from tests.handlers.test_import_support import NOTICE_HEADER, csv_bytes, pdf_text, run_import


def lines(number: str, period: str, issue: str, due: str, rent: str = "175,03", charges: str = "44,97") -> list[str]:
    return [
        f"{number};{period};{issue};{due};Loyer;rent;{rent};;",
        f"{number};{period};{issue};{due};Provisions pour charges;charges;{charges};;",
    ]


@pytest.fixture
def tenant(runtime, aws):
    """A logged-in tenant with notices for April, May and June 2019 (220,00 € each)."""
    tenant, login = tenant_with_login(balance_cents=0, balance_date="2019-03-31")  # owes only these notices
    number = tenant.holder.tenant_number
    rows = (
        lines(number, "2019-05", "2019-05-24", "2019-06-10")
        + lines(number, "2019-04", "2019-04-24", "2019-05-10")
        + lines(number, "2019-06", "2019-06-24", "2019-07-10", rent="180,00", charges="45,00")
    )
    run_import(runtime, aws, "notices", f"{uuid.uuid4().hex}.csv", csv_bytes(NOTICE_HEADER, rows))
    return tenant, login


def add_payment(
    number: str, amount: int, paid_at: str | None = "2019-06-01T10:00:00Z", status: str = "succeeded"
) -> str:
    payment_id = uuid.uuid4().hex
    oph_aws.dynamodb().put_item(
        TableName=get_settings().tenants_table,
        Item=dynamo.to_item(
            {
                "pk": f"TENANT#{number}",
                "sk": f"PAYMENT#{payment_id}",
                "payment_id": payment_id,
                "account_id": "acc",
                "amount_cents": amount,
                "status": status,
                "created_at": paid_at or "2019-06-01T10:00:00Z",
                "paid_at": paid_at,
            }
        ),
    )
    return payment_id


def test_listing_newest_first_with_amounts(client, tenant):
    _, login = tenant
    reply = client.get("/v1/documents", token=login.access_token)
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("application/json")
    items = reply.json()["items"]
    assert [i["period"] for i in items] == ["2019-06", "2019-05", "2019-04"]
    assert items[1] == {
        "id": items[1]["id"],
        "type": "notice",
        "period": "2019-05",
        "title": "Avis d'échéance — mai 2019",
        "issued_on": "2019-05-24",
        "due_date": "2019-06-10",
        "amount_due_cents": 22000,
    }
    assert items[0]["amount_due_cents"] == 22500
    assert items[2]["title"] == "Avis d'échéance — avril 2019"


def test_type_filter_and_invalid_type(client, tenant):
    _, login = tenant
    assert len(client.get("/v1/documents", query="type=notice", token=login.access_token).json()["items"]) == 3
    assert client.get("/v1/documents", query="type=receipt", token=login.access_token).json() == {"items": []}
    reply = client.get("/v1/documents", query="type=facture", token=login.access_token)
    assert reply.status == 422
    body = reply.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "type" and body["errors"][0]["code"] == "invalid_format"
    assert body["errors"][0]["message"] == (
        "Type de document inconnu (notice, receipt, payment_receipt, statement ou mandate)."
    )
    for known in ("payment_receipt", "statement", "mandate"):
        reply = client.get("/v1/documents", query=f"type={known}", token=login.access_token)
        assert (reply.status, reply.json()) == (200, {"items": []}), known


def test_listing_requires_a_token(client):
    assert client.get("/v1/documents").status == 401


def test_download_is_a_signed_url_under_the_callers_prefix(client, tenant, aws):
    import requests

    owner, login = tenant
    doc = client.get("/v1/documents", token=login.access_token).json()["items"][1]
    reply = client.get(f"/v1/documents/{doc['id']}/download", token=login.access_token)
    assert reply.status == 200
    body = reply.json()
    assert body["expires_in"] == 300
    assert body["filename"] == "avis-echeance-2019-05.pdf"
    url = urlsplit(body["url"])
    assert unquote(url.path).endswith(f"/tenants/{owner.holder.tenant_number}/notices/avis-echeance-2019-05.pdf")
    query = parse_qs(url.query)
    assert query["response-content-disposition"] == ['attachment; filename="avis-echeance-2019-05.pdf"']
    assert query["response-content-type"] == ["application/pdf"]
    assert query["X-Amz-Expires"] == ["300"]
    # moto's in-process mock answers the signed URL as S3 would
    fetched = requests.get(body["url"], timeout=10)
    assert fetched.status_code == 200
    text = pdf_text(fetched.content)
    assert owner.holder.tenant_number in text and "Mai 2019" in text and "220,00 €" in text


def test_another_tenants_document_is_not_found(client, tenant):
    _, login = tenant
    doc_id = client.get("/v1/documents", token=login.access_token).json()["items"][0]["id"]
    _, stranger = tenant_with_login()
    reply = client.get(f"/v1/documents/{doc_id}/download", token=stranger.access_token)
    assert reply.status == 404
    assert reply.json()["code"] == "not_found"
    assert client.get("/v1/documents/nope/download", token=stranger.access_token).status == 404


def test_a_key_outside_the_callers_prefix_is_never_signed(client, tenant):
    owner, login = tenant
    number = owner.holder.tenant_number
    table = get_settings().tenants_table
    oph_aws.dynamodb().put_item(
        TableName=table,
        Item=dynamo.to_item(
            {
                "pk": f"TENANT#{number}",
                "sk": "DOC#forged",
                "doc_id": "forged",
                "tenant_number": number,
                "type": "notice",
                "title": "x",
                "issued_on": "2019-01-01",
                "s3_key": "tenants/999999/notices/avis-echeance-2019-01.pdf",
                "filename": "avis-echeance-2019-01.pdf",
                "period": "2019-01",
                "rendered_at": "2019-01-01T00:00:00Z",
            }
        ),
    )
    assert client.get("/v1/documents/forged/download", token=login.access_token).status == 404


def test_a_notice_not_yet_rendered_is_rendered_on_download(client, runtime, aws):
    import requests

    owner, login = tenant_with_login()
    number = owner.holder.tenant_number
    rows = lines(number, "2019-09", "2019-09-24", "2019-10-10")
    run_import(runtime, aws, "notices", f"{uuid.uuid4().hex}.csv", csv_bytes(NOTICE_HEADER, rows), pump=False)
    doc_id = client.get("/v1/documents", token=login.access_token).json()["items"][0]["id"]
    url = client.get(f"/v1/documents/{doc_id}/download", token=login.access_token).json()["url"]
    assert "Septembre 2019" in pdf_text(requests.get(url, timeout=10).content)


# ------------------------------------------------------------------ quittances and reçus
def ask(client, login, period):
    return client.post("/v1/documents/receipts", {"period": period}, token=login.access_token)


@pytest.mark.parametrize("period", ["2019-5", "2019-13", "mai 2019", "", "2019-05-01"])
def test_invalid_period_is_422_invalid_format(client, tenant, period):
    reply = ask(client, tenant[1], period)
    assert reply.status == 422
    assert reply.json()["errors"][0] == {
        "field": "period",
        "code": "invalid_format",
        "message": "La période doit être au format AAAA-MM (par exemple 2019-05).",
    }


def test_period_without_notice_is_404_and_unpaid_is_422(client, tenant):
    _, login = tenant
    reply = ask(client, login, "2018-01")
    assert reply.status == 404 and reply.json()["code"] == "not_found"
    reply = ask(client, login, "2019-05")
    assert reply.status == 422
    assert reply.json()["errors"] == [
        {"field": "period", "code": "period_unpaid", "message": "Aucun paiement n'est enregistré pour cette période."}
    ]


def test_recu_then_quittance_as_payments_arrive(client, tenant, aws, outbox):
    owner, login = tenant
    number = owner.holder.tenant_number
    add_payment(number, 30000)  # April paid in full, May 80,00 €
    add_payment(number, 50000, status="refused")

    april = ask(client, login, "2019-04")
    assert april.status == 201
    assert april.json()["title"] == "Quittance de loyer — avril 2019"
    assert april.json()["amount_cents"] == 22000

    first = ask(client, login, "2019-05")
    assert first.status == 201
    recu = first.json()
    assert recu["type"] == "receipt" and recu["title"] == "Reçu — mai 2019" and recu["amount_cents"] == 8000
    assert recu["period"] == "2019-05"
    again = ask(client, login, "2019-05")
    assert again.status == 200 and again.json() == recu

    reply = client.get(f"/v1/documents/{recu['id']}/download", token=login.access_token)
    assert reply.json()["filename"] == "recu-2019-05.pdf"
    assert ask(client, login, "2019-06").status == 422  # nothing left for June

    add_payment(number, 14000, paid_at="2019-06-20T08:00:00Z")
    done = ask(client, login, "2019-05")
    assert done.status == 201
    quittance = done.json()
    assert quittance["id"] != recu["id"]
    assert quittance["title"] == "Quittance de loyer — mai 2019" and quittance["amount_cents"] == 22000
    assert ask(client, login, "2019-05").json() == quittance

    receipts = client.get("/v1/documents", query="type=receipt", token=login.access_token).json()["items"]
    assert {r["id"] for r in receipts} == {april.json()["id"], recu["id"], quittance["id"]}
    link = client.get(f"/v1/documents/{quittance['id']}/download", token=login.access_token).json()
    assert link["filename"] == "quittance-2019-05.pdf"
    assert outbox() == []  # receipts_by_email is off by default


def test_quittance_by_a_zero_balance_and_emailed_with_consent(client, runtime, aws, outbox):

    owner, login = tenant_with_login(balance_cents=0, balance_date="2019-06-05")
    number = owner.holder.tenant_number
    rows = [
        f"{number};2019-05;2019-05-24;2019-06-10;Loyer;rent;300,00;;",
        f"{number};2019-05;2019-05-24;2019-06-10;Charges générales;charges;60,00;;",
        f"{number};2019-05;2019-05-24;2019-06-10;APL;aid;-140,00;;",
    ]
    run_import(runtime, aws, "notices", f"{uuid.uuid4().hex}.csv", csv_bytes(NOTICE_HEADER, rows))
    account = login.account
    account.preferences = {**account.preferences, "receipts_by_email": True}
    oph_aws.dynamodb().put_item(TableName=get_settings().tenants_table, Item=account_item(account))
    outbox_before = len(outbox())

    reply = ask(client, login, "2019-05")
    assert reply.status == 201 and reply.json()["amount_cents"] == 22000
    mails = outbox()[outbox_before:]
    assert len(mails) == 1
    assert mails[0]["to"][0] == account.email
    assert mails[0]["subject"] == "Votre quittance de loyer de mai 2019"
    assert mails[0]["attachments"] == [
        {
            "filename": "quittance-2019-05.pdf",
            "content_type": "application/pdf",
            "size": mails[0]["attachments"][0]["size"],
        }
    ]
    from devserver.outbox import attachment_bytes

    text = pdf_text(attachment_bytes(len(outbox()) - 1, "quittance-2019-05.pdf") or b"")
    assert "QUITTANCE DE LOYER" in text
    assert next(r for r in text.splitlines() if "Loyer (hors charges)" in r).rstrip().endswith("300,00 €")
    assert next(r for r in text.splitlines() if "Provisions pour charges" in r).rstrip().endswith("60,00 €")
    assert next(r for r in text.splitlines() if "APL" in r).rstrip().endswith("-140,00 €")
    assert ask(client, login, "2019-05").status == 200
    assert len(outbox()) == outbox_before + 1  # not e-mailed twice
