"""The report of one admin import (contract sections 5 and 8): what was read, accepted,
rejected (each rejected line with its French reason), how many notices were created, and the
warnings (accepted lines the office should look at, such as a balance that disagrees with the
tenancy's movements), present in the report of every kind, possibly empty.

The report is written twice: ``imports/reports/<name>.json`` (the contract's key: the latest
import of that file name, its ``kind`` and ``file`` saying which) and
``imports/reports/<kind>/<name>.json``, so a tenants file and a notices file sharing a name
never lose each other's report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from oph.imports.csv_format import KINDS

REPORTS_PREFIX = "imports/reports/"
STORE_FAILURE = "Enregistrement impossible (service momentanément indisponible) : déposez le fichier à nouveau."


@dataclass
class Report:
    file: str
    kind: str
    status: str = "done"
    rows_read: int = 0
    rows_accepted: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    documents_created: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    reason: str | None = None  # set when the whole file failed

    def reject(self, line: int, reason: str) -> None:
        self.rejected.append((line, reason))

    def warn(self, line: int, reason: str) -> None:
        self.warnings.append((line, reason))

    def fail(self, reason: str) -> None:
        """The whole file is unusable: nothing of it counts."""
        self.status, self.reason = "failed", reason
        self.rows_read = self.rows_accepted = self.documents_created = 0
        self.rejected, self.warnings = [], []

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "file": self.file,
            "kind": self.kind,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": len(self.rejected),
            "rejected": [{"line": line, "reason": reason} for line, reason in sorted(self.rejected)],
            "documents_created": self.documents_created,
            "warnings": [{"line": line, "reason": reason} for line, reason in sorted(self.warnings)],
        }
        if self.reason is not None:
            body["reason"] = self.reason
        return body


def report_keys(key: str, kind: str) -> list[str]:
    name = key.rsplit("/", 1)[-1]
    stem = name[: -len(".csv")] if name.lower().endswith(".csv") else name
    return [f"{REPORTS_PREFIX}{stem}.json", f"{REPORTS_PREFIX}{kind}/{stem}.json"]


def kind_of(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) >= 3 and parts[0] == "imports" and parts[1] in KINDS:
        return parts[1]
    return None
