"""SES bounce/complaint events (SNS) -> the account's e-mail marked undeliverable."""

from __future__ import annotations

from typing import Any

from oph.accounts.bounces import handle_sns_records
from oph.platform.observability import get_logger, get_metrics

logger = get_logger()
metrics = get_metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"flagged": handle_sns_records(event.get("Records", []))}
