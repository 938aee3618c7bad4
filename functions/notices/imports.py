"""Admin imports (S3 ``ObjectCreated`` on ``imports/tenants/``, ``imports/notices/``,
``imports/movements/`` and ``imports/mandates/``).

Each uploaded CSV is imported and its report written next to the imports
(``imports/reports/``); the handler returns ``{"reports": [...]}``, one per record. The
mandates file's answers are recorded by the payments context (:class:`MandateAnswers`), handed
to the import here: the imports and payments contexts do not import each other.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from oph.imports.service import import_object
from oph.payments.mandate_answers import MandateAnswers
from oph.platform.observability import get_logger, get_metrics

logger, metrics = get_logger(), get_metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    reports = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        bucket = str((s3.get("bucket") or {}).get("name") or "")
        key = unquote_plus(str((s3.get("object") or {}).get("key") or ""))  # S3 events URL-encode keys
        if key.startswith("imports/reports/"):
            continue
        reports.append(import_object(bucket, key, mandates=MandateAnswers()))
    return {"reports": reports}
