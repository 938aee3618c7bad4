"""Push worker (SQS): delivers the push queue's messages through Amazon SNS mobile push
(:func:`oph.accounts.push.deliver`): notifications to an account's devices, and the SNS
endpoints of removed devices to delete.

Failures are reported per message (``batchItemFailures``): a message SNS throttled or failed
comes back after the visibility timeout and lands in the dead-letter queue after the queue's
attempts; the others of the batch are deleted. Refusals that retrying cannot fix are dropped
inside :func:`~oph.accounts.push.deliver`, with a metric, and do not fail the message.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from oph.accounts.push import deliver
from oph.platform.observability import get_logger, get_metrics

logger, metrics = get_logger(), get_metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> int:
    return deliver(json.loads(record.body))


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
