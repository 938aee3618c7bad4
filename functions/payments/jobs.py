"""Scheduled payment jobs (EventBridge Scheduler, see template.yaml):

- ``{"job": "expire_payments"}`` every 15 minutes: payments still ``created`` after
  ``PAYMENT_EXPIRY_MINUTES`` become ``expired``;
- ``{"job": "export_payments"}`` daily at 00:30 Paris time: the previous Paris day's succeeded
  payments to ``exports/payments/YYYY-MM-DD.csv``; ``{"job": "export_payments", "date":
  "YYYY-MM-DD"}`` (re)writes a given day.

Both are idempotent: running them twice changes nothing more.
"""

from __future__ import annotations

from typing import Any

from oph.payments import jobs as payments
from oph.platform.observability import get_logger, get_metrics

logger, metrics = get_logger(), get_metrics()


def run(event: dict[str, Any]) -> dict[str, Any]:
    job = event.get("job") if isinstance(event, dict) else None
    if job == "expire_payments":
        return {"job": job, "expired": payments.expire_payments()}
    if job == "export_payments":
        day = event.get("date")
        if day is not None and not isinstance(day, str):
            raise ValueError("date must be YYYY-MM-DD")
        return {"job": job, **payments.export_payments(day)}
    raise ValueError(f"unknown job: {str(job)[:40]}")


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = run(event)
    logger.info("payment job done", extra=result)
    return result
