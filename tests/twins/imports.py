"""Twin of :class:`oph.imports.store.ImportStore`."""

from __future__ import annotations

import json
from typing import Any


class MemoryImportStore:
    def __init__(self) -> None:
        self.files: dict[tuple[str, str], bytes] = {}  # (bucket, key)
        self.reports: dict[tuple[str, str], dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []

    def read(self, bucket: str, key: str) -> bytes | None:
        return self.files.get((bucket, key))

    def write_report(self, bucket: str, key: str, body: dict[str, Any]) -> None:
        self.reports[(bucket, key)] = json.loads(json.dumps(body))

    def send_notices(self, message: dict[str, Any]) -> None:
        self.messages.append(json.loads(json.dumps(message, ensure_ascii=False)))
