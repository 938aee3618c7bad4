"""Scheduled payment jobs (EventBridge Scheduler, see template.yaml):

- ``{"job": "expire_payments"}`` every 15 minutes: payments still ``created`` after
  ``PAYMENT_EXPIRY_MINUTES`` become ``expired``;
- ``{"job": "export_payments"}`` daily at 00:30 Paris time: the previous Paris day's succeeded
  payments to ``exports/payments/YYYY-MM-DD.csv``; ``{"job": "export_payments", "date":
  "YYYY-MM-DD"}`` (re)writes a given day;
- ``{"job": "direct_debit_export"}`` daily at 00:45 Paris time: the previous Paris day's signed
  and revoked SEPA mandates to ``exports/direct-debit/YYYY-MM-DD.csv``, written once per day
  (``{"job": "direct_debit_export", "date": "YYYY-MM-DD"}`` writes a given day if it is not
  written yet).

All are idempotent: running them twice changes nothing more. Each answer lists the keys the
run ``written`` (the local server's ``POST /_dev/jobs/{name}`` returns that list).
"""

from __future__ import annotations

from typing import Any

from oph.payments import jobs as payments
from oph.payments.direct_debit_export import export_direct_debits
from oph.platform.observability import get_logger, get_metrics

logger, metrics = get_logger(), get_metrics()


def _day(event: dict[str, Any]) -> str | None:
    day = event.get("date")
    if day is not None and not isinstance(day, str):
        raise ValueError("date must be YYYY-MM-DD")
    return day


def run(event: dict[str, Any]) -> dict[str, Any]:
    job = event.get("job") if isinstance(event, dict) else None
    if job == "expire_payments":
        return {"job": job, "expired": payments.expire_payments(), "written": []}
    if job == "export_payments":
        done = payments.export_payments(_day(event))
        return {"job": job, **done, "written": [done["key"]]}
    if job == "direct_debit_export":
        return {"job": job, **export_direct_debits(_day(event)).as_dict()}
    raise ValueError(f"unknown job: {str(job)[:40]}")


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = run(event)
    logger.info("payment job done", extra=result)
    return result
