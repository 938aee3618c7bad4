"""Documents as stored: one index item per document in the tenancy's partition of
TenantsTable (``TENANT#<tenant number>`` / ``DOC#<doc id>``), the PDF in the documents bucket
under the tenant's own prefix (:func:`oph.documents.model.tenant_prefix`).

Besides the document's fields, a notice's index item records ``rendered_at`` (the worker
stored its PDF) and ``notified_holders`` (a string set: the holders already e-mailed about it,
claimed before sending so that each holder is e-mailed at most once, and "push" once the
holders' phones were told). The notice worker sets both in one write per notice
(:meth:`DocumentStore.mark_rendered_and_claim`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from oph.documents.model import Document
from oph.platform import aws
from oph.platform.aws import bucket, dynamo
from oph.platform.provider import Provider
from oph.platform.settings import get_settings
from oph.tenancy.store import tenancy_pk

DOC_PREFIX = "DOC#"


def document_key(tenant_number: str, doc_id: str) -> dict[str, Any]:
    return dynamo.key(tenancy_pk(tenant_number), f"{DOC_PREFIX}{doc_id}")


def document_item(document: Document) -> dict[str, Any]:
    """The index item of a document (its fields; ``None`` ones left out)."""
    return {**document_key(document.tenant_number, document.doc_id), **dynamo.to_item(asdict(document))}


def document_from_item(item: dict[str, Any]) -> Document:
    """A document from its index item (attributes that are not fields are ignored)."""
    values = dynamo.from_item(item)
    return Document(**{k: v for k, v in values.items() if k in Document.__dataclass_fields__})


def _require_own_prefix(document: Document) -> None:
    if not document.under_prefix_of(document.tenant_number):
        raise ValueError("document key outside the tenant's prefix")


class DocumentStore:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    def warm_up(self) -> None:
        """Create the shared clients before several threads use them."""
        aws.dynamodb(), aws.s3()

    # -- the index
    def put(self, document: Document, *, only_if_new: bool = False) -> bool:
        """Store the index item; with ``only_if_new`` returns False if it already existed."""
        _require_own_prefix(document)
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": document_item(document)}
        if only_if_new:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        return dynamo.put_if(**kwargs)

    def create_if_new(self, document: Document) -> Document | None:
        """Create the index item unless one exists: None when created, else the existing one."""
        _require_own_prefix(document)
        try:
            with aws.unavailable_on_failure():
                aws.dynamodb().put_item(
                    TableName=self.table,
                    Item=document_item(document),
                    ConditionExpression="attribute_not_exists(pk)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except Exception as exc:
            if not aws.is_conditional_failure(exc):
                raise
            existing = getattr(exc, "response", {}).get("Item")
            if existing:
                return document_from_item(existing)
            return self.get(document.tenant_number, document.doc_id) or document
        return None

    def get(self, tenant_number: str, doc_id: str) -> Document | None:
        """Only ever looks under the given tenancy: another tenant's id is not found."""
        item = dynamo.get(self.table, document_key(tenant_number, doc_id))
        return document_from_item(item) if item else None

    def list(self, tenant_number: str) -> list[Document]:
        items = dynamo.query_all(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :d)",
            ExpressionAttributeValues={":pk": {"S": tenancy_pk(tenant_number)}, ":d": {"S": DOC_PREFIX}},
        )
        return [document_from_item(i) for i in items]

    def mark_rendered(self, document: Document, rendered_at: str) -> None:
        """Record that the PDF is stored (nothing happens if the index item is gone)."""
        dynamo.update_if(
            TableName=self.table,
            Key=document_key(document.tenant_number, document.doc_id),
            UpdateExpression="SET rendered_at = :now",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":now": {"S": rendered_at}},
        )

    def mark_rendered_and_claim(self, document: Document, rendered_at: str, claimants: Iterable[str]) -> set[str]:
        """Record that the PDF is stored and claim the notifications of ``claimants`` (holder
        ids, "push"), in one UpdateItem: returns those this call claimed, leaving out those
        someone already had (every claimant, when the index item is gone: nothing is created).

        The claims are added to ``notified_holders`` whatever it holds, and the set as it was
        before (the old item) says which were new: a test-and-set per claimant, for every
        claimant of the notice at once.
        """
        wanted = sorted(set(claimants))
        if not wanted:
            self.mark_rendered(document, rendered_at)
            return set()
        before = dynamo.update_if(
            TableName=self.table,
            Key=document_key(document.tenant_number, document.doc_id),
            UpdateExpression="SET rendered_at = :now ADD notified_holders :c",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":now": {"S": rendered_at}, ":c": {"SS": wanted}},
            # ALL_OLD, not UPDATED_OLD: the claims as they were must come back even when this
            # write changes nothing (moto leaves unchanged attributes out of UPDATED_OLD).
            ReturnValues="ALL_OLD",
        )
        if before is None:
            return set()
        return set(wanted) - set((before.get("notified_holders") or {}).get("SS", []))

    # -- who was told about a notice
    def release_notification(self, document: Document, holder_id: str) -> None:
        """Undo a claim whose e-mail could not be sent (the retry will send it)."""
        with aws.unavailable_on_failure():
            aws.dynamodb().update_item(
                TableName=self.table,
                Key=document_key(document.tenant_number, document.doc_id),
                UpdateExpression="DELETE notified_holders :h",
                ExpressionAttributeValues={":h": {"SS": [holder_id]}},
            )

    # -- the PDF
    def put_pdf(self, document: Document, pdf: bytes) -> None:
        """Store the document's PDF under its key, downloaded as its file name."""
        _require_own_prefix(document)
        bucket.put_pdf(document.s3_key, pdf, document.filename)

    def download_url(self, document: Document, filename: str, lifetime: int) -> str:
        """A presigned GET of the document's PDF, saved as ``filename``."""
        return bucket.presigned_download(document.s3_key, filename, lifetime)


document_store: Provider[DocumentStore] = Provider(DocumentStore)
