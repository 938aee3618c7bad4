"""Admin actions on an online account, run from the AWS console (Lambda → Test).

Event: ``{"email": "adresse@exemple.fr", "disabled": true}`` (or ``false`` to re-enable).
Answer: ``{"email": …, "disabled": …, "found": true|false}``. See README "Operations".
"""

from __future__ import annotations

from typing import Any

from oph.accounts.admin import set_disabled
from oph.platform.observability import get_logger, get_metrics
from oph.platform.validation import normalize_email

logger, metrics = get_logger(), get_metrics()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    email, disabled = (event or {}).get("email"), (event or {}).get("disabled")
    if not isinstance(email, str) or not isinstance(disabled, bool):
        raise ValueError('expected {"email": "…", "disabled": true|false}')
    found = set_disabled(email, disabled)
    return {"email": normalize_email(email), "disabled": disabled, "found": found}
