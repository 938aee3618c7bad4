"""Documents of a tenancy listed in "Mes documents": avis d'échéance (``notice``), quittances
and reçus (``receipt``), reçus de paiement (``payment_receipt``).

TenantsTable: ``TENANT#<tenant number>`` / ``DOC#<doc id>``; the PDF lives in the documents
bucket under ``tenants/<tenant number>/`` (the tenant's own prefix: a download URL is only
ever signed for a key under the caller's prefix). Co-holders share their tenancy's documents.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from oph.platform import aws
from oph.platform.aws import dynamo
from oph.platform.settings import get_settings
from oph.tenancy.model import normalize_tenant_number
from oph.tenancy.store import tenancy_pk

NOTICE = "notice"
RECEIPT = "receipt"
PAYMENT_RECEIPT = "payment_receipt"
TYPES = (NOTICE, RECEIPT, PAYMENT_RECEIPT)


def tenant_prefix(tenant_number: str) -> str:
    return f"tenants/{normalize_tenant_number(tenant_number)}/"


@dataclass
class Document:
    doc_id: str
    tenant_number: str
    type: str  # notice | receipt | payment_receipt
    title: str
    issued_on: str  # YYYY-MM-DD
    s3_key: str  # always under tenant_prefix(tenant_number)
    filename: str
    period: str | None = None  # YYYY-MM, None for a payment_receipt
    due_date: str | None = None  # notices
    amount_due_cents: int | None = None  # notices
    amount_cents: int | None = None  # receipts and payment receipts
    created_at: str = ""
    extra: dict[str, Any] | None = None  # type-specific details (lines, payment id, kind...)

    def to_item(self) -> dict[str, Any]:
        return {
            "pk": {"S": tenancy_pk(self.tenant_number)},
            "sk": {"S": f"DOC#{self.doc_id}"},
            **dynamo.to_item(asdict(self)),
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Document:
        values = dynamo.from_item(item)
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def as_api(self) -> dict[str, Any]:
        """The item of ``GET /v1/documents`` (contract section 5)."""
        body: dict[str, Any] = {
            "id": self.doc_id,
            "type": self.type,
            "title": self.title,
            "issued_on": self.issued_on,
            "period": self.period,
        }
        if self.type == NOTICE:
            body["due_date"] = self.due_date
            body["amount_due_cents"] = self.amount_due_cents
        else:
            body["amount_cents"] = self.amount_cents
        return body


class DocumentRepository:
    def __init__(self, table: str | None = None) -> None:
        self.table = table or get_settings().tenants_table

    def put(self, document: Document, *, only_if_new: bool = False) -> bool:
        """Store the index item; with ``only_if_new`` returns False if it already existed."""
        if not document.s3_key.startswith(tenant_prefix(document.tenant_number)):
            raise ValueError("document key outside the tenant's prefix")
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": document.to_item()}
        if only_if_new:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            with aws.unavailable_on_failure():
                aws.dynamodb().put_item(**kwargs)
        except Exception as exc:
            if only_if_new and aws.is_conditional_failure(exc):
                return False
            raise
        return True

    def get(self, tenant_number: str, doc_id: str) -> Document | None:
        """Only ever looks under the caller's own tenancy: another tenant's id is not found."""
        with aws.unavailable_on_failure():
            item = (
                aws.dynamodb()
                .get_item(
                    TableName=self.table,
                    Key={"pk": {"S": tenancy_pk(tenant_number)}, "sk": {"S": f"DOC#{doc_id}"}},
                    ConsistentRead=True,
                )
                .get("Item")
            )
        return Document.from_item(item) if item else None

    def list(self, tenant_number: str) -> list[Document]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :d)",
            "ExpressionAttributeValues": {":pk": {"S": tenancy_pk(tenant_number)}, ":d": {"S": "DOC#"}},
        }
        items = dynamo.query_all(**kwargs)
        return [Document.from_item(i) for i in items]


def sort_newest_first(documents: list[Document]) -> list[Document]:
    """Newest first by ``issued_on``, then by period (contract section 5)."""
    return sorted(documents, key=lambda d: (d.issued_on, d.period or ""), reverse=True)
