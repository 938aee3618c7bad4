"""The documents bucket as the stores use it: put a PDF or a file, read one, sign a download.

Named `bucket`, not `s3`: `oph.platform.aws.s3` is the client factory.
"""

from __future__ import annotations

import json
from typing import Any

from oph.platform import aws
from oph.platform.aws import error_code, unavailable_on_failure
from oph.platform.settings import get_settings


def put_pdf(key: str, pdf: bytes, filename: str) -> None:
    """Store a PDF under ``key``, downloaded as ``filename`` (``Content-Disposition: attachment``)."""
    with unavailable_on_failure():
        aws.s3().put_object(
            Bucket=get_settings().documents_bucket,
            Key=key,
            Body=pdf,
            ContentType="application/pdf",
            ContentDisposition=f'attachment; filename="{filename}"',
        )


def put_file(key: str, body: bytes, content_type: str, *, bucket: str | None = None) -> None:
    with unavailable_on_failure():
        aws.s3().put_object(
            Bucket=bucket or get_settings().documents_bucket, Key=key, Body=body, ContentType=content_type
        )


def put_json(key: str, body: Any, *, bucket: str | None = None) -> None:
    data = json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")
    put_file(key, data, "application/json; charset=utf-8", bucket=bucket)


def get_file(key: str, *, bucket: str | None = None) -> bytes | None:
    """The object's bytes, or None when there is no such key."""
    try:
        with unavailable_on_failure():
            return bytes(aws.s3().get_object(Bucket=bucket or get_settings().documents_bucket, Key=key)["Body"].read())
    except Exception as exc:
        if error_code(exc) in ("NoSuchKey", "404"):
            return None
        raise


def presigned_download(key: str, filename: str, lifetime: int) -> str:
    with unavailable_on_failure():
        url: str = aws.s3().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": get_settings().documents_bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": "application/pdf",
            },
            ExpiresIn=lifetime,
        )
    return url
