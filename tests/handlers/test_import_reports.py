"""Admin imports through the real functions: S3 event -> import function -> report in S3 ->
notice queue -> worker -> PDFs and e-mails."""

from __future__ import annotations

import pytest

from oph.accounts.account_store import account_item
from oph.documents.store import DocumentStore
from oph.tenancy.store import TenancyStore
from tests.factories import make_account, make_tenant
from tests.handlers.test_import_support import (
    NOTICE_HEADER,
    TENANT_HEADER,
    csv_bytes,
    pdf_text,
    read_report,
    run_import,
    s3_bytes,
)


def fresh_number() -> str:
    import secrets

    return str(700000 + secrets.randbelow(99999))


def test_tenants_file_report_with_good_bad_and_duplicate_rows(runtime, aws):
    n1, n2 = fresh_number(), fresh_number()
    rows = [
        f"{n1};DUPOND;Jean;10/09/1975;C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",
        f"{n1};DUPOND;Marie;1977-01-02;C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",  # co-holder
        f"{n2};MARTIN;;1980-02-29;C2;T2;1 Rue A;93300;AUBERVILLIERS;;",  # no first name
        f"{n1};DUPOND;Jean;10/09/1975;C1;T1;10 Rue Hémet;93300;AUBERVILLIERS;610,68;23/05/2019",  # duplicate
        f"{n2};MARTIN;Sophie;31/02/1980;C2;T2;1 Rue A;93300;AUBERVILLIERS;;",  # impossible date
        f"{n2};MARTIN;Paul;1981-03-01;C2;T2;1 Rue A;93300;AUBERVILLIERS;-12.5;2019-05-30",
        "too;few;columns",
    ]
    report = run_import(runtime, aws, "tenants", "locataires-2019.csv", csv_bytes(TENANT_HEADER, rows, bom=True))
    assert report == {
        "file": "imports/tenants/locataires-2019.csv",
        "kind": "tenants",
        "status": "done",
        "rows_read": 7,
        "rows_accepted": 3,
        "rows_rejected": 4,
        "rejected": [
            {"line": 4, "reason": "Prénom (first_name) manquant."},
            {"line": 5, "reason": "Ligne en double : ce titulaire figure déjà ligne 2."},
            {"line": 6, "reason": "Date de naissance invalide (format attendu JJ/MM/AAAA ou AAAA-MM-JJ)."},
            {"line": 8, "reason": "Nombre de champs incorrect : 11 attendus, 3 trouvés."},
        ],
        "documents_created": 0,
        "warnings": [],
    }
    assert read_report(aws, "imports/reports/locataires-2019.json") == report
    assert read_report(aws, "imports/reports/tenants/locataires-2019.json") == report
    repo = TenancyStore()
    assert sorted(h.first_name for h in repo.list_holders(n1)) == ["Jean", "Marie"]
    assert repo.list_holders(n1)[0].birth_date in ("1975-09-10", "1977-01-02")
    tenancy = repo.get_tenancy(n1)
    assert tenancy is not None
    assert (tenancy.balance_cents, tenancy.balance_date, tenancy.address_line1) == (61068, "2019-05-23", "10 Rue Hémet")
    assert repo.get_tenancy(n2).balance_cents == -1250


def notice_rows(
    number: str, period: str = "2019-05", *, issue: str = "24/05/2019", due: str = "2019-06-10"
) -> list[str]:
    return [
        f"{number};{period};{issue};{due};Loyer;rent;175,03;610,68;23/05/2019",
        f"{number};{period};{issue};{due};Provisions charges générales LG;charges;7.76;610,68;23/05/2019",
        f"{number};{period};{issue};{due};Provisions charges générales SH;charges;14,72;610,68;23/05/2019",
        f"{number};{period};{issue};{due};Provisions chauffage;charges;19.55;610,68;23/05/2019",
        f"{number};{period};{issue};{due};Divers appareils chauffage;charges;2,94;610,68;23/05/2019",
    ]


def test_notices_file_creates_one_notice_per_tenant_and_period(runtime, aws, outbox):
    tenant = make_tenant(fresh_number(), balance_cents=100, balance_date="2019-01-01")
    number = tenant.holder.tenant_number
    rows = [*notice_rows(number), f"{number};2019-05;24/05/2019;10/06/2019;Loyer;rent;175,03;610,68;23/05/2019"]
    report = run_import(runtime, aws, "notices", "2019-05.csv", csv_bytes(NOTICE_HEADER, rows))
    assert report["status"] == "done"
    assert (report["rows_read"], report["rows_accepted"], report["rows_rejected"]) == (6, 5, 1)
    assert report["rejected"] == [
        {"line": 7, "reason": "Ligne en double de la ligne 2 : ignorée pour ne pas compter le montant deux fois."}
    ]
    assert report["documents_created"] == 1
    assert read_report(aws, "imports/reports/2019-05.json") == report
    assert read_report(aws, "imports/reports/notices/2019-05.json") == report

    [notice] = DocumentStore().list(number)
    assert notice.as_api() == {
        "id": notice.doc_id,
        "type": "notice",
        "title": "Avis d'échéance — mai 2019",
        "issued_on": "2019-05-24",
        "period": "2019-05",
        "due_date": "2019-06-10",
        "amount_due_cents": 22000,
    }
    text = pdf_text(s3_bytes(aws, notice.s3_key))
    assert number in text and "Mai 2019" in text and "220,00 €" in text and "Provisions chauffage" in text
    assert notice.s3_key.startswith(f"tenants/{number}/")
    # the notices file's balance is newer than the tenants file's one
    assert TenancyStore().get_tenancy(number).balance_cents == 61068
    assert outbox() == []  # nobody has an account


def test_reimport_creates_nothing_and_sends_no_second_email(runtime, aws, outbox):
    tenant = make_tenant(fresh_number())
    account = make_account(tenant)
    data = csv_bytes(
        NOTICE_HEADER, notice_rows(tenant.holder.tenant_number, "2019-07", issue="24/07/2019", due="2019-08-10")
    )
    first = run_import(runtime, aws, "notices", "juillet.csv", data)
    assert first["documents_created"] == 1
    mails = outbox()
    assert len(mails) == 1
    assert mails[0]["subject"] == "Votre avis d'échéance de juillet 2019 est disponible"
    assert account.email in mails[0]["to"]
    assert "220,00 €" in mails[0]["text"] and "10/08/2019" in mails[0]["text"]

    again = run_import(runtime, aws, "notices", "juillet.csv", data)
    assert again["documents_created"] == 0
    assert (again["rows_accepted"], again["rows_rejected"]) == (5, 0)
    assert len(DocumentStore().list(tenant.holder.tenant_number)) == 1
    assert len(outbox()) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"notice_emails": False},
        {"status": "pending"},
        {"disabled": True},
    ],
)
def test_only_active_accounts_that_want_notice_emails_are_emailed(runtime, aws, outbox, change):
    from oph.platform import aws as oph_aws
    from oph.platform.settings import get_settings

    tenant = make_tenant(fresh_number())
    account = make_account(tenant)
    if "notice_emails" in change:
        account.preferences = {**account.preferences, **change}
    else:
        for key, value in change.items():
            setattr(account, key, value)
    oph_aws.dynamodb().put_item(TableName=get_settings().tenants_table, Item=account_item(account))
    report = run_import(
        runtime, aws, "notices", "n.csv", csv_bytes(NOTICE_HEADER, notice_rows(tenant.holder.tenant_number))
    )
    assert report["documents_created"] == 1
    assert outbox() == []


def test_co_holders_each_get_one_email(runtime, aws, outbox):
    from oph.tenancy.model import Holder

    tenant = make_tenant(fresh_number())
    other = Holder(tenant.holder.tenant_number, "MARTIN", "Paul", "1979-04-04")
    TenancyStore().put_holder(other)
    from tests.factories import Tenant

    first, second = make_account(tenant), make_account(Tenant(other, tenant.tenancy))
    run_import(runtime, aws, "notices", "co.csv", csv_bytes(NOTICE_HEADER, notice_rows(tenant.holder.tenant_number)))
    recipients = sorted(m["to"][0] for m in outbox())
    assert recipients == sorted([first.email, second.email])


def test_unknown_tenant_and_invalid_lines_hold_back_their_notice(runtime, aws):
    known = make_tenant(fresh_number()).holder.tenant_number
    other = make_tenant(fresh_number()).holder.tenant_number
    rows = [
        "999999999;2019-05;24/05/2019;10/06/2019;Loyer;rent;100,00;;",
        f"{known};2019-05;24/05/2019;10/06/2019;Loyer;rent;100,00;;",
        f"{known};2019-05;24/05/2019;10/06/2019;Charges;charges;1O,00;;",  # letter O
        f"{other};2019-05;2019-05-24;2019-06-10;Loyer;rent;100.5;;",
        f"{other};2019-05;2019-05-24;2019-06-10;APL;aid;-40,25;;",
        f"{other};2019-05;2019-05-24;2019-06-11;Charges;charges;1;;",  # another due date
        f"{other};2019-06;2019-06-24;2019-07-10;Loyer;rent;100,5;;",
        f"{other};2019-06;2019-06-24;2019-07-10;Aide;aid;12;;",  # positive aid
    ]
    report = run_import(runtime, aws, "notices", "mixed.csv", csv_bytes(NOTICE_HEADER, rows))
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert report["rows_read"] == 8
    assert report["rows_rejected"] == len(reasons) == 8
    assert report["rows_accepted"] == 0
    assert reasons[2] == "Numéro d'intitulé inconnu : 999999999 (importez d'abord le fichier des locataires)."
    assert reasons[4].startswith("Montant invalide : « 1O,00 »")
    assert reasons[3].startswith("Avis non publié : la ligne 4 du même avis (2019-05) est invalide")
    assert reasons[7] == "Dates d'émission ou limite différentes de la ligne 5 du même avis."
    assert reasons[5].startswith("Avis non publié : la ligne 7")
    assert reasons[9] == "Une ligne d'aide (aid) doit avoir un montant négatif."
    assert reasons[8].startswith("Avis non publié : la ligne 9")
    assert report["documents_created"] == 0
    assert DocumentStore().list(known) == []


def test_aid_lines_and_both_formats_make_the_right_total(runtime, aws):
    number = make_tenant(fresh_number()).holder.tenant_number
    rows = [
        f"{number};2019-05;2019-05-24;10/06/2019;Loyer;rent;1 175.03;;",
        f"{number};2019-05;24/05/2019;2019-06-10;APL;aid;-300,5;;",
    ]
    report = run_import(runtime, aws, "notices", "aid.csv", csv_bytes(NOTICE_HEADER, rows))
    assert report["documents_created"] == 1
    [notice] = DocumentStore().list(number)
    assert notice.amount_due_cents == 117503 - 30050
    text = pdf_text(s3_bytes(aws, notice.s3_key))
    assert "1 175,03 €" in text and "-300,50 €" in text and "874,53 €" in text


def test_balances_later_date_wins_notices_file_on_a_tie(runtime, aws):
    number = fresh_number()
    tenants = csv_bytes(TENANT_HEADER, [f"{number};A;B;1970-01-01;C;T;1 Rue;93300;AUBERVILLIERS;100,00;2019-06-01"])
    run_import(runtime, aws, "tenants", "t1.csv", tenants)
    older = csv_bytes(NOTICE_HEADER, [f"{number};2019-05;2019-05-24;2019-06-10;Loyer;rent;1;50,00;2019-05-31"])
    run_import(runtime, aws, "notices", "older.csv", older)
    assert TenancyStore().get_tenancy(number).balance_cents == 10000
    tie = csv_bytes(NOTICE_HEADER, [f"{number};2019-06;2019-06-24;2019-07-10;Loyer;rent;1;75,00;01/06/2019"])
    run_import(runtime, aws, "notices", "tie.csv", tie)
    assert TenancyStore().get_tenancy(number).balance_cents == 7500
    run_import(runtime, aws, "tenants", "t1.csv", tenants)  # same date again: the notices file keeps it
    assert TenancyStore().get_tenancy(number).balance_cents == 7500


def test_same_name_in_both_folders_keeps_both_reports(runtime, aws):
    number = fresh_number()
    run_import(
        runtime,
        aws,
        "tenants",
        "2019-05.csv",
        csv_bytes(TENANT_HEADER, [f"{number};A;B;1970-01-01;C;T;1 Rue;93300;X;;"]),
    )
    run_import(runtime, aws, "notices", "2019-05.csv", csv_bytes(NOTICE_HEADER, notice_rows(number)))
    assert read_report(aws, "imports/reports/tenants/2019-05.json")["kind"] == "tenants"
    assert read_report(aws, "imports/reports/notices/2019-05.json")["kind"] == "notices"
    assert read_report(aws, "imports/reports/2019-05.json")["kind"] == "notices"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("tenant_number;last_name\n1;Hélène\n".encode("cp1252"), "UTF-8"),
        (b"tenant_number;period\n1;2019-05\n", "Colonnes manquantes dans l'en-tête (ligne 1) : issue_date"),
        (b"", "Le fichier est vide."),
    ],
)
def test_broken_files_get_a_failed_report(runtime, aws, data, reason):
    report = run_import(runtime, aws, "notices", "broken.csv", data)
    assert report["status"] == "failed"
    assert reason in report["reason"]
    assert (report["rows_read"], report["rows_accepted"], report["rows_rejected"], report["documents_created"]) == (
        0,
        0,
        0,
        0,
    )
    assert read_report(aws, "imports/reports/broken.json") == report


def test_header_only_file_is_done_with_nothing(runtime, aws):
    report = run_import(runtime, aws, "tenants", "empty.csv", csv_bytes(TENANT_HEADER, []))
    assert (report["status"], report["rows_read"], report["rejected"]) == ("done", 0, [])


def test_demo_seed_goes_through_the_import_and_the_worker(runtime, aws, demo_tenant):
    from tests.handlers.test_import_support import pump_queue

    pump_queue(runtime, aws)
    report = read_report(aws, "imports/reports/notices-2019-05.json")
    assert (report["status"], report["rows_accepted"], report["documents_created"]) == ("done", 5, 1)
    [notice] = DocumentStore().list("123456")
    assert (notice.title, notice.amount_due_cents, notice.due_date) == (
        "Avis d'échéance — mai 2019",
        22000,
        "2019-06-10",
    )
    text = pdf_text(s3_bytes(aws, notice.s3_key))
    for expected in ("123456", "DUPOND Jean", "10 Rue Hémet", "175,03 €", "7,76 €", "14,72 €", "19,55 €", "2,94 €"):
        assert expected in text, expected
    assert "Solde au 23/05/2019" in text and "610,68 €" in text and "10/06/2019" in text
    tenancy = TenancyStore().get_tenancy("123456")
    assert (tenancy.contract_number, tenancy.balance_cents, tenancy.balance_date) == ("0123456-01", 61068, "2019-05-23")


def test_worker_messages_carry_batches_of_tenants_with_their_addressees(runtime, aws, outbox):
    import json

    import boto3

    from tests.handlers.test_import_support import pump_queue

    numbers = [fresh_number() for _ in range(3)]
    tenants = [f"{n};LEROY;Anne;1970-01-01;C;T;1 Rue;93300;AUBERVILLIERS;;" for n in numbers]
    tenants.append(f"{numbers[0]};LEROY;Marc;1971-01-01;C;T;1 Rue;93300;AUBERVILLIERS;;")
    run_import(runtime, aws, "tenants", "batch.csv", csv_bytes(TENANT_HEADER, tenants))
    rows = [row for n in numbers for row in notice_rows(n)]
    report = run_import(runtime, aws, "notices", "batch.csv", csv_bytes(NOTICE_HEADER, rows), pump=False)
    assert report["documents_created"] == 3
    sqs = boto3.client("sqs", region_name="eu-west-3")
    [message] = sqs.receive_message(
        QueueUrl=aws.queue_urls["NoticeQueue"], MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    body = json.loads(message["Body"])
    assert sorted(t["tenant_number"] for t in body["tenants"]) == sorted(numbers)
    first = next(t for t in body["tenants"] if t["tenant_number"] == numbers[0])
    assert [h["first_name"] for h in first["holders"]] == ["Anne", "Marc"]
    assert "birth_date" not in json.dumps(body)
    assert pump_queue(runtime, aws)[0] == {"batchItemFailures": []}
    for number in numbers:
        [notice] = DocumentStore().list(number)
        assert "LEROY Anne" in pdf_text(s3_bytes(aws, notice.s3_key))


def test_a_failing_message_is_reported_alone(runtime, aws):
    from devserver import events

    good = {"file": "x", "tenants": []}
    records = events.sqs_event(
        "arn:aws:sqs:eu-west-3:123456789012:NoticeQueue",
        [
            {"MessageId": "ok", "ReceiptHandle": "r1", "Body": __import__("json").dumps(good)},
            {"MessageId": "bad", "ReceiptHandle": "r2", "Body": "{not json"},
        ],
    )
    assert runtime.invoke("NoticeWorkerFunction", records) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
