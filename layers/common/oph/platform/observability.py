"""Logger and metrics shared by every function, with personal data masked.

No tracer in the code (issue 19): Powertools' ``Tracer`` loads the X-Ray SDK (100-150 ms of
every cold start, in maintenance until its end of support on 2027-02-25). ``Tracing: Active``
in the template keeps Lambda's own segments (invocation, init, duration); traces of the AWS
calls, when wanted, come from the OpenTelemetry layer (README, Operations), outside the code.

The logs must never hold a password, token, JWT, signature, full e-mail address or birth
date: ``mask`` is applied to every record, whatever a careless call passes in.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")
# An IBAN, compact or in groups of four: country, key, then 11 to 30 letters or digits.
_IBAN = re.compile(r"\b([A-Z]{2}\d{2})(?:[ ]?[A-Z0-9]){11,30}\b")
_SECRET_KEYS = re.compile(r"(?i)(password|token|signature|secret|authorization|birth|card|key)")


def mask_text(text: str) -> str:
    text = _JWT.sub("[jwt]", text)
    text = _BEARER.sub(r"\1[masqué]", text)
    text = _EMAIL.sub(r"\1***@\2", text)
    text = _IBAN.sub(r"\1 ****", text)  # personal banking data: never in a log line
    return _DATE.sub("[date]", text)


def mask(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEYS.search(key):
        return "[masqué]"
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


class _MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        elif isinstance(record.msg, dict):
            record.msg = mask(record.msg)
        if record.args:
            record.args = tuple(mask(a) for a in record.args) if isinstance(record.args, tuple) else mask(record.args)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRS and not name.startswith("_"):
                setattr(record, name, mask(value, name))
        return True


_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


@cache
def get_logger() -> Any:
    from aws_lambda_powertools import Logger

    logger = Logger(utc=True)
    logger.addFilter(_MaskingFilter())
    return logger


@cache
def get_metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics()


def count(name: str, value: int = 1) -> None:
    """Add a business metric (registrations, logins, e-mails, payments, imports)."""
    from aws_lambda_powertools.metrics import MetricUnit

    get_metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)
