"""The office's daily direct-debit export (contract section 8) through the real payment-jobs
function and moto (KMS, DynamoDB, S3): one row per signature or revocation of the Paris day,
the IBAN in clear only there, written once per day, and the scheduler's entry in the template.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from devserver import template as tpl
from tests.factories import log_in as session_for
from tests.factories import make_account, make_tenant, tenant_with_login

HEADER = "mandate_reference;tenant_number;account_holder;iban;debit_day;signed_at;action"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
IBAN_COMPACT = "FR7630006000011234567890189"
OTHER_IBAN = "DE89 3704 0044 0532 0130 00"  # a valid German IBAN (SEPA zone)
DIRECT_DEBIT = "/v1/payments/direct-debit"


def stopped_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """A clock setter that STOPS the functions' clock at now + offset (the signatures'
    instants are then to the second, whatever the machine's speed)."""
    from oph.platform import clock

    def stop(seconds: float) -> None:
        stopped = time.time() + seconds
        monkeypatch.setattr(clock, "now_ts", lambda: stopped)

    return stop


@pytest.fixture
def clock_offset(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    return stopped_clock(monkeypatch)


def at(clock_offset: Any, instant: str) -> None:
    """Move the functions' "now" to ``instant`` (UTC), and keep it there."""
    moment = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    clock_offset(moment.timestamp() - time.time())


def sign(client: Any, login: Any, *, iban: str = IBAN, holder: str = "DUPOND Jean", debit_day: int = 5) -> dict:
    """Sign with a session opened now (tests move the clock between steps)."""
    login = session_for(login.account)
    body = {
        "iban": iban,
        "account_holder": holder,
        "debit_day": debit_day,
        "accept_mandate": True,
        "current_password": login.password,
    }
    reply = client.put(DIRECT_DEBIT, body, token=login.access_token)
    assert reply.status == 201, reply.text
    return dict(reply.json())


def revoke(client: Any, login: Any) -> dict:
    login = session_for(login.account)
    reply = client.delete(DIRECT_DEBIT, {"current_password": login.password}, token=login.access_token)
    assert reply.status == 200, reply.text
    return dict(reply.json())


def run_export(runtime: Any, day: str | None = None) -> dict:
    event: dict[str, Any] = {"job": "direct_debit_export"}
    if day is not None:
        event["date"] = day
    return dict(runtime.invoke("PaymentJobsFunction", event))


def stored(aws: Any, key: str) -> dict[str, Any]:
    import boto3

    return dict(boto3.client("s3", region_name=tpl.REGION).get_object(Bucket=aws.bucket, Key=key))


def export_lines(aws: Any, day: str) -> list[str]:
    return stored(aws, f"exports/direct-debit/{day}.csv")["Body"].read().decode("utf-8").split("\r\n")[:-1]


def test_the_days_export_has_one_row_per_signature_with_the_iban_in_clear(runtime, aws, client, clock_offset):
    at(clock_offset, "2019-05-28T12:05:00Z")
    tenant, login = tenant_with_login()
    signed = sign(client, login)
    result = run_export(runtime, "2019-05-28")
    key = "exports/direct-debit/2019-05-28.csv"
    assert result["written"] == [key] and result["rows"] == 1
    assert IBAN_COMPACT not in json.dumps(result)  # the job's answer (and its log line) has no IBAN
    number = tenant.holder.tenant_number
    assert export_lines(aws, "2019-05-28") == [
        HEADER,
        f"{signed['mandate_reference']};{number};DUPOND Jean;{IBAN_COMPACT};5;2019-05-28T12:05:00Z;create",
    ]
    obj = stored(aws, key)
    assert obj["ContentType"] == "text/csv; charset=utf-8"
    assert obj["ServerSideEncryption"] == "AES256"
    assert signed["mandate_reference"] == f"OPH-{number}-0001"


def test_a_day_is_written_once_even_if_the_job_runs_twice(runtime, aws, client, clock_offset):
    at(clock_offset, "2019-05-28T08:00:00Z")
    _, login = tenant_with_login()
    sign(client, login)
    first = run_export(runtime, "2019-05-28")
    before = stored(aws, first["key"])
    body = before["Body"].read()
    again = run_export(runtime, "2019-05-28")
    assert again["written"] == [] and again["key"] == first["key"]
    after = stored(aws, first["key"])
    assert after["ETag"] == before["ETag"] and after["Body"].read() == body


def test_two_runs_at_the_same_time_write_one_file(runtime, aws, client, clock_offset):
    at(clock_offset, "2019-05-28T08:00:00Z")
    _, login = tenant_with_login()
    sign(client, login)
    results: list[dict] = []
    runs = [threading.Thread(target=lambda: results.append(run_export(runtime, "2019-05-28"))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sorted(len(r["written"]) for r in results) == [0, 1]
    assert len(export_lines(aws, "2019-05-28")) == 2


def test_a_mandate_signed_at_23_59_59_paris_time_is_in_that_days_export_and_no_other(
    runtime, aws, client, clock_offset
):
    at(clock_offset, "2019-05-28T21:00:00Z")
    _, late = tenant_with_login()
    _, next_day = tenant_with_login()
    at(clock_offset, "2019-05-28T21:59:59Z")  # 23:59:59 in Paris (summer time)
    late_ref = sign(client, late)["mandate_reference"]
    at(clock_offset, "2019-05-28T22:00:00Z")  # midnight in Paris: the 29th
    next_ref = sign(client, next_day)["mandate_reference"]
    at(clock_offset, "2019-05-30T08:00:00Z")
    run_export(runtime, "2019-05-28")
    run_export(runtime, "2019-05-29")
    may_28, may_29 = export_lines(aws, "2019-05-28"), export_lines(aws, "2019-05-29")
    assert [line.split(";")[0] for line in may_28[1:]] == [late_ref]
    assert [line.split(";")[0] for line in may_29[1:]] == [next_ref]
    assert may_28[1].split(";")[5] == "2019-05-28T21:59:59Z"


def test_winter_time_days_are_paris_days_too(runtime, aws, client, clock_offset):
    at(clock_offset, "2019-12-31T23:30:00Z")
    _, login = tenant_with_login()  # 0 h 30 on 1 January in Paris
    ref = sign(client, login)["mandate_reference"]
    at(clock_offset, "2020-01-02T08:00:00Z")
    run_export(runtime, "2019-12-31")
    run_export(runtime, "2020-01-01")
    assert export_lines(aws, "2019-12-31") == [HEADER]
    assert [line.split(";")[0] for line in export_lines(aws, "2020-01-01")[1:]] == [ref]


def test_a_revocation_is_exported_the_day_it_is_asked_and_a_mandate_never_twice(runtime, aws, client, clock_offset):
    at(clock_offset, "2019-05-28T09:00:00Z")
    _, first = tenant_with_login()
    _, second = tenant_with_login()
    first_ref = sign(client, first)["mandate_reference"]
    at(clock_offset, "2019-05-29T09:00:00Z")
    revoke(client, first)
    at(clock_offset, "2019-05-29T09:30:00Z")
    second_ref = sign(client, second, iban=OTHER_IBAN, holder="MARTIN Sophie", debit_day=10)["mandate_reference"]
    at(clock_offset, "2019-05-29T10:00:00Z")
    revoke(client, second)  # signed and revoked the same day: both lines, create first
    at(clock_offset, "2019-05-30T08:00:00Z")
    run_export(runtime, "2019-05-28")
    run_export(runtime, "2019-05-29")
    may_28, may_29 = export_lines(aws, "2019-05-28")[1:], export_lines(aws, "2019-05-29")[1:]
    assert [(c[0], c[3], c[6]) for c in (line.split(";") for line in may_28)] == [(first_ref, IBAN_COMPACT, "create")]
    assert [(c[0], c[3], c[4], c[6]) for c in (line.split(";") for line in may_29)] == [
        (first_ref, IBAN_COMPACT, "5", "revoke"),
        (second_ref, "DE89370400440532013000", "10", "create"),
        (second_ref, "DE89370400440532013000", "10", "revoke"),
    ]
    assert may_29[0].split(";")[5] == "2019-05-28T09:00:00Z"  # a revoke line carries the signature's instant
    every = [tuple(line.split(";")[i] for i in (0, 6)) for line in may_28 + may_29]
    assert len(every) == len(set(every))  # each (mandate, action) once across the days


def test_without_a_date_the_job_exports_yesterday_in_paris(runtime, aws, client, clock_offset):
    at(clock_offset, "2019-05-28T15:00:00Z")
    _, login = tenant_with_login()
    ref = sign(client, login)["mandate_reference"]
    at(clock_offset, "2019-05-28T22:45:00Z")  # 0 h 45 on the 29th in Paris: the scheduled run
    result = run_export(runtime)
    assert result["written"] == ["exports/direct-debit/2019-05-28.csv"]
    assert export_lines(aws, "2019-05-28")[1].startswith(f"{ref};")


def test_a_day_without_mandates_gives_a_file_with_its_header_only(runtime, aws):
    assert run_export(runtime, "2019-05-27")["written"] == ["exports/direct-debit/2019-05-27.csv"]
    assert export_lines(aws, "2019-05-27") == [HEADER]


@pytest.mark.parametrize("day", ["2019-02-30", "28/05/2019", "2019-5-28", 20190528])
def test_a_bad_date_is_refused_and_writes_nothing(runtime, aws, day):
    with pytest.raises(ValueError):
        run_export(runtime, day)
    import boto3

    listed = boto3.client("s3", region_name=tpl.REGION).list_objects_v2(Bucket=aws.bucket, Prefix="exports/")
    assert listed.get("KeyCount", 0) == 0


def test_an_iban_kms_cannot_decrypt_stops_the_export_before_anything_is_written(runtime, aws, client, clock_offset):
    from oph.payments.mandate_store import MandateStore, day_index_pk
    from oph.platform.aws import dynamo

    at(clock_offset, "2019-05-28T09:00:00Z")
    tenant = make_tenant()
    login = session_for(make_account(tenant))
    ref = sign(client, login)["mandate_reference"]
    table = MandateStore().table
    items = dynamo.query_all(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": day_index_pk("2019-05-28")}},
    )
    assert len(items) == 1 and items[0]["mandate_reference"]["S"] == ref
    # the ciphertext of another mandate's IBAN: bound to another context, KMS refuses it
    import boto3

    boto3.client("dynamodb", region_name=tpl.REGION).update_item(
        TableName=table,
        Key={"pk": items[0]["pk"], "sk": items[0]["sk"]},
        UpdateExpression="SET iban_ciphertext = :c",
        ExpressionAttributeValues={":c": {"S": _ciphertext_of_another_mandate()}},
    )
    with pytest.raises(Exception, match=r"InvalidCiphertextException|IbanUnreadable"):
        run_export(runtime, "2019-05-28")
    listed = boto3.client("s3", region_name=tpl.REGION).list_objects_v2(Bucket=aws.bucket, Prefix="exports/")
    assert listed.get("KeyCount", 0) == 0


def _ciphertext_of_another_mandate() -> str:
    from oph.payments.adapters.iban_vault import iban_vault, mandate_context

    return iban_vault().encrypt(IBAN, context=mandate_context("999999", "OPH-999999-0001"))


def test_the_scheduler_runs_the_export_daily_after_midnight_paris_time_with_least_privilege():
    jobs = next(f for f in tpl.functions() if f.logical_id == "PaymentJobsFunction")
    schedule = next(s for s in jobs.schedules if json.loads(s["Input"]) == {"job": "direct_debit_export"})
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    minute, hour = schedule["ScheduleExpression"].removeprefix("cron(").split()[:2]
    assert hour == "0" and int(minute) > 0  # after midnight, Paris time: the previous day is over
    policies = json.dumps(tpl.resources()["PaymentJobsFunction"]["Properties"]["Policies"])
    assert "exports/direct-debit/*" in policies and "s3:GetObject" not in policies
    imports = next(f for f in tpl.functions() if f.logical_id == "ImportFunction")
    assert "imports/mandates/" in imports.s3_prefixes
