"""Notice worker (SQS): renders and stores the avis d'échéance of one batch of tenants per
message, then e-mails the holders who asked for it.

Failures are reported per message (``batchItemFailures``): the other messages of the batch
are deleted, the failed ones come back after the visibility timeout and land in the
dead-letter queue after three attempts. Everything done per message is idempotent.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from oph.documents.delivery import deliver_batch
from oph.platform.observability import get_logger, get_metrics

logger, metrics = get_logger(), get_metrics()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> int:
    return deliver_batch(json.loads(record.body))


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
