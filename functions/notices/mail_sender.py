"""Mail sender (SQS): sends the queued bulk e-mails at the pace SES allows.

See ``oph.platform.mail_queue``: each e-mail is sent once (claimed by key), throttled ones go
back to the queue as new delayed messages (never towards the dead-letter queue), and only the
messages whose e-mail failed for another reason are reported as batch item failures.
"""

from __future__ import annotations

from typing import Any

from oph.platform.mail_queue import QueuedEmail, from_sqs_record, send_queued
from oph.platform.observability import get_logger, get_metrics

logger, metrics = get_logger(), get_metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    items: list[QueuedEmail] = []
    failures: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        try:
            items.append(from_sqs_record(record))
        except (KeyError, TypeError, ValueError):
            logger.error("unreadable mail message", extra={"message_id": record.get("messageId")})
            failures.append({"itemIdentifier": str(record.get("messageId"))})
    report = send_queued(items, context.get_remaining_time_in_millis)
    failures += [{"itemIdentifier": message_id} for message_id in report.failed]
    logger.info(
        "mail batch",
        extra={
            "sent": report.sent,
            "duplicates": report.duplicates,
            "requeued": report.requeued,
            "failed": len(failures),
        },
    )
    return {"batchItemFailures": failures}
