"""The office's exports as stored: files under the documents bucket's private ``exports/``
prefix (public access blocked, encrypted at rest), each written once.

The direct-debit export holds IBANs in clear for the office's bank: a day's file must never be
written twice (the office takes every line on as an instruction). The "written once" is S3's
own conditional write (``If-None-Match: *``): the object itself is the marker, atomically,
with no second record to keep in step with it; two runs at the same time give one file and
one ``False``.
"""

from __future__ import annotations

from oph.platform import aws
from oph.platform.aws import error_code, unavailable_on_failure
from oph.platform.provider import Provider
from oph.platform.settings import get_settings

# S3's answers to a conditional write whose object exists, or is being written by another call.
ALREADY_WRITTEN = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


class ExportStore:
    def put_once(self, key: str, body: bytes, content_type: str) -> bool:
        """Write the file unless one exists at ``key``: False (and nothing written) if it does."""
        try:
            with unavailable_on_failure():
                aws.s3().put_object(
                    Bucket=get_settings().documents_bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    ServerSideEncryption="AES256",
                    IfNoneMatch="*",
                )
        except Exception as exc:
            if error_code(exc) in ALREADY_WRITTEN:
                return False
            raise
        return True


export_store: Provider[ExportStore] = Provider(ExportStore)
