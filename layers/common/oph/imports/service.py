"""Admin imports (contract sections 5 and 8): a CSV dropped under ``imports/<kind>/`` becomes
holders, tenancies, balances and avis d'échéance (:mod:`oph.imports.tenants`,
:mod:`oph.imports.notices`), the tenancies' account movements (:mod:`oph.imports.movements`)
or the office's answers about SEPA mandates (:mod:`oph.imports.mandates`, through the
``mandates`` register the handler hands in), and a report ``imports/reports/<name>.json``
(:mod:`oph.imports.report`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oph.imports.csv_format import MANDATES, MOVEMENTS, NOTICES, TENANTS, FileRejected, split_rows
from oph.imports.mandates import MandateRegister, import_mandates
from oph.imports.movements import import_movements
from oph.imports.notices import import_notices
from oph.imports.report import Report, kind_of, report_keys
from oph.imports.store import import_store
from oph.imports.tenants import import_tenants
from oph.platform.observability import count, get_logger

UNKNOWN_FOLDER = (
    "Dossier inconnu : déposez le fichier sous imports/tenants/, imports/notices/, imports/movements/ "
    "ou imports/mandates/."
)
Importer = Callable[[list[tuple[int, dict[str, str]]], Report], None]
IMPORTERS: dict[str, Importer] = {TENANTS: import_tenants, NOTICES: import_notices, MOVEMENTS: import_movements}
MISSING_FILE = "Fichier introuvable dans le compartiment (supprimé avant l'import ?)."
NO_MANDATE_REGISTER = "Import des mandats indisponible dans cette fonction : contactez l'équipe technique."


def import_object(bucket: str, key: str, *, mandates: MandateRegister | None = None) -> dict[str, Any]:
    """Import one uploaded file and write its report; never raises for a bad file.

    ``mandates`` is the payments context's mandate register, needed by a mandates file only.
    """
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
        import_bytes(data, kind, report, mandates=mandates)
    except FileRejected as exc:
        report.fail(exc.reason)
    body = report.as_dict()
    for report_key in report_keys(key, kind):
        store.write_report(bucket, report_key, body)
    _record(report)
    return body


def _importer(kind: str, mandates: MandateRegister | None) -> Importer:
    if kind != MANDATES:
        return IMPORTERS[kind]
    if mandates is None:
        raise FileRejected(NO_MANDATE_REGISTER)
    register = mandates
    return lambda rows, report: import_mandates(rows, report, register)


def import_bytes(data: bytes, kind: str, report: Report, *, mandates: MandateRegister | None = None) -> None:
    importer = _importer(kind, mandates)
    parsed = split_rows(data, kind)
    report.rows_read = len(parsed.rows) + len(parsed.rejected)
    for line, reason in parsed.rejected:
        report.reject(line, reason)
    importer(parsed.rows, report)
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
