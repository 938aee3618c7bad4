"""The notice worker's messages: the notices to render, grouped by tenant, at most
``NOTICES_PER_MESSAGE`` notices per message (a tenant's notices are never split).

Each tenant's entry carries what the worker needs so it reads nothing per tenant: the
tenancy's contract and address, the notices, and the holders' names and ids when the tenants
import recorded them (see :func:`oph.documents.delivery.deliver_tenant`, which reads them).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from oph.documents.model import Document
from oph.tenancy.store import ImportedTenancy

NOTICES_PER_MESSAGE = 100
TENANCY_FIELDS = ("contract_number", "third_party_number", "address_line1", "postal_code", "city")


def tenant_entry(number: str, documents: list[Document], imported: ImportedTenancy | None) -> dict[str, Any]:
    tenancy = imported.tenancy if imported is not None else None
    entry: dict[str, Any] = {
        "tenant_number": number,
        "tenancy": {k: getattr(tenancy, k, "") for k in TENANCY_FIELDS},
        "documents": [asdict(d) for d in documents],
    }
    if imported is not None and imported.addressees:
        entry["holders"] = [asdict(a) for a in imported.addressees]
    return entry


def notice_messages(
    source_file: str, documents: list[Document], tenancies: dict[str, ImportedTenancy]
) -> list[dict[str, Any]]:
    """The message bodies: ``{"file": source_file, "tenants": [entry, ...]}``."""
    by_tenant: dict[str, list[Document]] = {}
    for document in documents:
        by_tenant.setdefault(document.tenant_number, []).append(document)
    messages: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    size = 0
    for number, docs in by_tenant.items():
        if batch and size + len(docs) > NOTICES_PER_MESSAGE:
            messages.append({"file": source_file, "tenants": batch})
            batch, size = [], 0
        batch.append(tenant_entry(number, docs, tenancies.get(number)))
        size += len(docs)
    if batch:
        messages.append({"file": source_file, "tenants": batch})
    return messages
