"""The scheduled payment jobs: expiry of abandoned payments and the daily accounting export.

Both are idempotent: running them twice changes nothing more.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from oph.payments.model import Payment
from oph.payments.store import payment_store
from oph.platform import clock
from oph.platform.observability import count
from oph.platform.settings import get_settings

EXPORT_HEADER = [
    "date_paiement",
    "heure_paiement",
    "numero_intitule",
    "reference_paiement",
    "id_transaction",
    "date_transaction",
    "montant",
    "montant_centimes",
    "devise",
    "prestataire",
]


def expire_payments() -> int:
    """Mark ``expired`` every payment still ``created`` after the configured delay.

    Reads only the open payments old enough to expire (``PaymentStore.open_until``: settled
    payments leave that index when they settle) and writes only what changes: the expiry of a
    still-created payment, and the removal of each entry it read. Idempotent and forward-only:
    the conditional write only touches ``created`` payments.
    """
    now = clock.now()
    cutoff_iso = clock.iso_instant(now - timedelta(minutes=get_settings().payment_expiry_minutes))
    store = payment_store()
    expired = 0
    for tenant_number, payment_id, created_at in store.open_until(cutoff_iso):
        if store.expire(tenant_number, payment_id, cutoff=cutoff_iso, at=clock.iso_instant(now)):
            expired += 1
        store.drop_open(created_at, payment_id)  # settled now, whoever settled it
    if expired:
        count("PaymentsExpired", expired)
    return expired


def default_export_day() -> str:
    """The day before today in Paris: the job runs just after midnight, Paris time."""
    return (date.fromisoformat(clock.paris_today()) - timedelta(days=1)).isoformat()


def _row(payment: Payment) -> list[Any]:
    assert payment.paid_at is not None
    paid = clock.paris_moment(payment.paid_at)
    cents = payment.amount_cents
    trans_date = payment.trans_date
    return [
        paid.strftime("%d/%m/%Y"),
        paid.strftime("%H:%M:%S"),
        payment.tenant_number,
        payment.payment_id,
        payment.trans_id,
        f"{trans_date[6:8]}/{trans_date[4:6]}/{trans_date[:4]}" if len(trans_date) >= 8 else "",
        f"{cents // 100},{cents % 100:02d}",
        cents,
        "EUR",
        payment.provider,
    ]


def export_csv(day: str) -> tuple[bytes, int]:
    """The day's succeeded payments (Paris day of payment) as a French-friendly CSV."""
    payments = sorted(payment_store().paid_on(day), key=lambda p: (p.paid_at or "", p.payment_id))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for payment in payments:
        writer.writerow(_row(payment))
    # UTF-8 with BOM: spreadsheet software in French opens it with the right accents.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), len(payments)


def export_payments(day: str | None = None) -> dict[str, Any]:
    """Write ``exports/payments/<day>.csv``; running it again writes the same content."""
    day = day or default_export_day()
    date.fromisoformat(day)  # ValueError for anything but YYYY-MM-DD
    if len(day) != 10:
        raise ValueError("day must be YYYY-MM-DD")
    body, rows = export_csv(day)
    key = payment_store().put_export(day, body)
    count("PaymentExportRows", rows)
    return {"key": key, "rows": rows}
