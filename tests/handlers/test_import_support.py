"""Helpers of the import and documents handler tests: run an admin import as AWS would
(S3 object + S3 event to the import function, then the notice queue drained into the worker).
No tests here.
"""

from __future__ import annotations

import json
from typing import Any

from devserver import events
from devserver import template as tpl

NOTICE_HEADER = "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date"
TENANT_HEADER = (
    "tenant_number;last_name;first_name;birth_date;contract_number;third_party_number;"
    "address_line1;postal_code;city;balance;balance_date"
)


def csv_bytes(header: str, rows: list[str], *, bom: bool = False) -> bytes:
    text = "\n".join([header, *rows]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def run_import(runtime: Any, aws: Any, kind: str, name: str, data: bytes, *, pump: bool = True) -> dict[str, Any]:
    import boto3

    key = f"imports/{kind}/{name}"
    boto3.client("s3", region_name=tpl.REGION).put_object(Bucket=aws.bucket, Key=key, Body=data)
    result = runtime.invoke("ImportFunction", events.s3_event(aws.bucket, key, len(data)))
    if pump:
        pump_queue(runtime, aws)
    assert isinstance(result, dict) and len(result["reports"]) == 1
    return dict(result["reports"][0])


def pump_queue(runtime: Any, aws: Any) -> list[dict[str, Any]]:
    """Deliver the notice queue to the worker until empty, then the mail queue it fed to the
    mail sender (as AWS would); returns the worker results."""
    results = _pump(runtime, aws, "NoticeQueue", "NoticeWorkerFunction")
    _pump(runtime, aws, "MailQueue", "MailSenderFunction")
    return results


def _pump(runtime: Any, aws: Any, queue_id: str, function: str) -> list[dict[str, Any]]:
    import boto3

    sqs = boto3.client("sqs", region_name=tpl.REGION)
    url = aws.queue_urls[queue_id]
    arn = f"arn:aws:sqs:{tpl.REGION}:{tpl.ACCOUNT_ID}:{queue_id}"
    results = []
    for _ in range(100):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        if not got:
            break
        result = runtime.invoke(function, events.sqs_event(arn, got)) or {}
        results.append(result)
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for message in got:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if failed:
            break
    return results


def read_report(aws: Any, key: str) -> dict[str, Any]:
    import boto3

    body = boto3.client("s3", region_name=tpl.REGION).get_object(Bucket=aws.bucket, Key=key)["Body"].read()
    return dict(json.loads(body))


def s3_bytes(aws: Any, key: str) -> bytes:
    import boto3

    return bytes(boto3.client("s3", region_name=tpl.REGION).get_object(Bucket=aws.bucket, Key=key)["Body"].read())


def pdf_text(data: bytes) -> str:
    """Text of a PDF through poppler's pdftotext (independent of reportlab)."""
    import subprocess

    assert data.startswith(b"%PDF-")
    out = subprocess.run(["pdftotext", "-layout", "-nodiag", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")
