"""Twin of :class:`oph.payments.export_store.ExportStore`: files by key, each written once."""

from __future__ import annotations


class MemoryExportStore:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}  # key -> (body, content type)
        self.attempts: list[str] = []  # every put_once, written or not

    def put_once(self, key: str, body: bytes, content_type: str) -> bool:
        self.attempts.append(key)
        if key in self.files:
            return False
        self.files[key] = (bytes(body), content_type)
        return True
