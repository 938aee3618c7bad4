"""Events of the SNS platform applications (SNS topic of ``EventDeliveryFailure`` and
``EventEndpointUpdated``) -> the device whose token the platform gave up on is removed."""

from __future__ import annotations

from typing import Any

from oph.accounts.push import handle_platform_events
from oph.platform.observability import get_logger, get_metrics

logger = get_logger()
metrics = get_metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"removed": handle_platform_events(event.get("Records", []))}
