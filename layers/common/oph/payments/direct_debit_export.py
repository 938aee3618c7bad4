"""The office's daily direct-debit export (contract section 8): the mandates signed and the
revocations asked on one Paris day, ``exports/direct-debit/<YYYY-MM-DD>.csv``, for the office
to take on (its answers come back through ``imports/mandates``, :mod:`oph.imports.mandates`).

``mandate_reference;tenant_number;account_holder;iban;debit_day;signed_at;action`` (``;``,
UTF-8 without BOM, the office's software reads it; CRLF lines), one row per line of the day
index (:meth:`oph.payments.mandate_store.MandateStore.export_entries`), in the order things
happened: ``create`` for a mandate signed that day, ``revoke`` for a revocation asked that day
(a mandate signed and revoked on the same day has both rows, ``create`` first). The index is
written in the same transaction as the signature or the revocation request and keyed by the
Paris day of its instant, so a mandate signed at 23:59:59 Paris time is in that day's file and
no other, and every line is there exactly once.

The IBAN is decrypted here (:mod:`oph.payments.adapters.iban_vault`, the payment-jobs
function may decrypt, nothing else may) and only ever written to the file, which lives under
the bucket's private ``exports/`` prefix, encrypted at rest: it is in no log line, no metric
and no return value (the job returns the key and a count). An IBAN that cannot be decrypted
stops the job before anything is written (an error in the logs with the mandate's reference,
the Lambda fails and alarms): a file without one of the day's mandates would lose it for good,
since a day is written once.

Written once per day (:meth:`oph.payments.export_store.ExportStore.put_once`): the job runs
daily after midnight for the previous Paris day, and running it again for a day already
written writes nothing (``written`` False), whatever the index holds by then.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from oph.payments.adapters.iban_vault import IbanUnreadable, iban_vault, mandate_context
from oph.payments.export_store import export_store
from oph.payments.mandate import ExportEntry
from oph.payments.mandate_store import mandate_store
from oph.platform import clock
from oph.platform.observability import count, get_logger

EXPORT_PREFIX = "exports/direct-debit/"
EXPORT_HEADER = (
    "mandate_reference",
    "tenant_number",
    "account_holder",
    "iban",
    "debit_day",
    "signed_at",
    "action",
)
CONTENT_TYPE = "text/csv; charset=utf-8"


def export_key(day: str) -> str:
    """ "exports/direct-debit/2019-05-28.csv"."""
    return f"{EXPORT_PREFIX}{day}.csv"


def previous_paris_day() -> str:
    """Yesterday in Paris: the job runs just after midnight, Paris time."""
    return (date.fromisoformat(clock.paris_today()) - timedelta(days=1)).isoformat()


def checked_day(day: str | None) -> str:
    """``day`` if it is a real ``YYYY-MM-DD`` date (ValueError otherwise), else yesterday."""
    if day is None:
        return previous_paris_day()
    if not isinstance(day, str) or len(day) != 10:
        raise ValueError("day must be YYYY-MM-DD")
    date.fromisoformat(day)
    return day


@dataclass(frozen=True)
class ExportResult:
    day: str
    key: str
    rows: int
    written: bool  # False: the day's file already existed, nothing was written

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "key": self.key, "rows": self.rows, "written": [self.key] if self.written else []}


def unique_entries(entries: list[ExportEntry]) -> list[ExportEntry]:
    """Each (mandate, action) once, in the index's order (a retried write cannot double one)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for entry in entries:
        if (entry.mandate_reference, entry.action) not in seen:
            seen.add((entry.mandate_reference, entry.action))
            kept.append(entry)
    return kept


def _iban(entry: ExportEntry) -> str:
    try:
        return iban_vault().decrypt(
            entry.iban_ciphertext, context=mandate_context(entry.tenant_number, entry.mandate_reference)
        )
    except IbanUnreadable:
        get_logger().error(
            "direct debit export: an IBAN cannot be decrypted, nothing written",
            extra={"mandate_reference": entry.mandate_reference},
        )
        raise


def export_csv(entries: list[ExportEntry]) -> bytes:
    """The file: the header, then one row per entry, the IBAN in clear (compact)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for entry in entries:
        writer.writerow(
            [
                entry.mandate_reference,
                entry.tenant_number,
                entry.account_holder,
                _iban(entry),
                entry.debit_day,
                entry.signed_at,
                entry.action,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def export_direct_debits(day: str | None = None) -> ExportResult:
    """Write the day's file unless it was written already (default: yesterday, Paris time)."""
    day = checked_day(day)
    key = export_key(day)
    entries = unique_entries(mandate_store().export_entries(day))
    written = export_store().put_once(key, export_csv(entries), CONTENT_TYPE)
    if written:
        count("DirectDebitExportRows", len(entries))
    return ExportResult(day=day, key=key, rows=len(entries) if written else 0, written=written)
