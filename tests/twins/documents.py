"""Twin of :class:`oph.documents.store.DocumentStore`."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from oph.documents.model import Document
from oph.tenancy.model import normalize_tenant_number


def _key(tenant_number: str, doc_id: str) -> tuple[str, str]:
    return normalize_tenant_number(tenant_number), doc_id


def _require_own_prefix(document: Document) -> None:
    if not document.under_prefix_of(document.tenant_number):
        raise ValueError("document key outside the tenant's prefix")


class MemoryDocumentStore:
    def __init__(self) -> None:
        self.documents: dict[tuple[str, str], Document] = {}
        self.notified: dict[tuple[str, str], set[str]] = {}
        self.pdfs: dict[str, bytes] = {}  # by S3 key

    def warm_up(self) -> None:
        pass

    def put(self, document: Document, *, only_if_new: bool = False) -> bool:
        _require_own_prefix(document)
        key = _key(document.tenant_number, document.doc_id)
        if only_if_new and key in self.documents:
            return False
        self.documents[key] = copy.deepcopy(document)
        return True

    def create_if_new(self, document: Document) -> Document | None:
        _require_own_prefix(document)
        key = _key(document.tenant_number, document.doc_id)
        if key in self.documents:
            return copy.deepcopy(self.documents[key])
        self.documents[key] = copy.deepcopy(document)
        return None

    def get(self, tenant_number: str, doc_id: str) -> Document | None:
        found = self.documents.get(_key(tenant_number, doc_id))
        return copy.deepcopy(found) if found else None

    def list(self, tenant_number: str) -> list[Document]:
        number = normalize_tenant_number(tenant_number)
        return [copy.deepcopy(d) for (n, _), d in self.documents.items() if n == number]

    def mark_rendered(self, document: Document, rendered_at: str) -> None:
        found = self.documents.get(_key(document.tenant_number, document.doc_id))
        if found is not None:
            found.rendered_at = rendered_at

    def mark_rendered_and_claim(self, document: Document, rendered_at: str, claimants: Iterable[str]) -> set[str]:
        key = _key(document.tenant_number, document.doc_id)
        found = self.documents.get(key)
        if found is None:
            return set()
        found.rendered_at = rendered_at
        claimed = set(claimants) - self.notified.get(key, set())
        self.notified.setdefault(key, set()).update(claimed)
        return claimed

    def release_notification(self, document: Document, holder_id: str) -> None:
        self.notified.get(_key(document.tenant_number, document.doc_id), set()).discard(holder_id)

    def put_pdf(self, document: Document, pdf: bytes) -> None:
        _require_own_prefix(document)
        self.pdfs[document.s3_key] = pdf

    def download_url(self, document: Document, filename: str, lifetime: int) -> str:
        return f"memory://{document.s3_key}?filename={filename}&expires={lifetime}"
