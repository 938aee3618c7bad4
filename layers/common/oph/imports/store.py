"""The imports' own AWS: the uploaded file and its reports in S3, the notice queue in SQS.

Holders and tenancies are written through :mod:`oph.tenancy.store`, notices through
:mod:`oph.documents.store`.
"""

from __future__ import annotations

import json
from typing import Any

from oph.platform import aws
from oph.platform.aws import bucket
from oph.platform.provider import Provider
from oph.platform.settings import get_settings


class ImportStore:
    def read(self, bucket_name: str, key: str) -> bytes | None:
        """The uploaded file, or None when it is no longer there."""
        return bucket.get_file(key, bucket=bucket_name or None)

    def write_report(self, bucket_name: str, key: str, body: dict[str, Any]) -> None:
        bucket.put_json(key, body, bucket=bucket_name or None)

    def send_notices(self, message: dict[str, Any]) -> None:
        """One message for the notice worker."""
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        with aws.unavailable_on_failure():
            aws.sqs().send_message(QueueUrl=get_settings().notice_queue_url, MessageBody=body)


import_store: Provider[ImportStore] = Provider(ImportStore)
