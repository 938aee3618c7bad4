"""Admin imports (contract sections 5 and 8): a CSV dropped under ``imports/<kind>/`` becomes
holders, tenancies, balances and avis d'échéance (:mod:`oph.imports.tenants`,
:mod:`oph.imports.notices`) or the tenancies' account movements
(:mod:`oph.imports.movements`), and a report ``imports/reports/<name>.json``
(:mod:`oph.imports.report`).
"""

from __future__ import annotations

from typing import Any

from oph.imports.csv_format import MOVEMENTS, NOTICES, TENANTS, FileRejected, split_rows
from oph.imports.movements import import_movements
from oph.imports.notices import import_notices
from oph.imports.report import Report, kind_of, report_keys
from oph.imports.store import import_store
from oph.imports.tenants import import_tenants
from oph.platform.observability import count, get_logger

UNKNOWN_FOLDER = "Dossier inconnu : déposez le fichier sous imports/tenants/, imports/notices/ ou imports/movements/."
IMPORTERS = {TENANTS: import_tenants, NOTICES: import_notices, MOVEMENTS: import_movements}
MISSING_FILE = "Fichier introuvable dans le compartiment (supprimé avant l'import ?)."


def import_object(bucket: str, key: str) -> dict[str, Any]:
    """Import one uploaded file and write its report; never raises for a bad file."""
    kind = kind_of(key)
    report = Report(file=key, kind=kind or "unknown")
    if kind is None:
        report.fail(UNKNOWN_FOLDER)
        return report.as_dict()
    store = import_store()
    try:
        data = store.read(bucket, key)
        if data is None:
            raise FileRejected(MISSING_FILE)
        import_bytes(data, kind, report)
    except FileRejected as exc:
        report.fail(exc.reason)
    body = report.as_dict()
    for report_key in report_keys(key, kind):
        store.write_report(bucket, report_key, body)
    _record(report)
    return body


def import_bytes(data: bytes, kind: str, report: Report) -> None:
    parsed = split_rows(data, kind)
    report.rows_read = len(parsed.rows) + len(parsed.rejected)
    for line, reason in parsed.rejected:
        report.reject(line, reason)
    IMPORTERS[kind](parsed.rows, report)
    report.rows_accepted = report.rows_read - len(report.rejected)


def _record(report: Report) -> None:
    count("ImportRowsAccepted", report.rows_accepted)
    count("ImportRowsRejected", len(report.rejected))
    count("NoticesCreated", report.documents_created)
    get_logger().info(
        "import done",
        extra={
            "file": report.file,
            "status": report.status,
            "rows_read": report.rows_read,
            "rows_rejected": len(report.rejected),
            "documents_created": report.documents_created,
            "warnings": len(report.warnings),
        },
    )
