"""Secrets Manager JSON secrets, cached per container (one cache for every secret).

A secret is re-read after ``max_age`` seconds, so a rotation is picked up within that time;
``refresh`` forces a re-read (at most one forced re-read per ``min_interval``), for a caller
that meets a key it does not know yet (a JWT signed with a newly rotated key).
"""

from __future__ import annotations

import json
import time
from typing import Any

from oph.platform import aws
from oph.platform.aws import unavailable_on_failure
from oph.platform.settings import on_reset

DEFAULT_MAX_AGE = 300
_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_refreshed: dict[str, float] = {}  # when each secret was last re-read on demand


@on_reset
def forget() -> None:
    _cache.clear()
    _refreshed.clear()


def json_secret(secret_id: str, *, max_age: float = DEFAULT_MAX_AGE) -> dict[str, Any]:
    cached = _cache.get(secret_id)
    if cached is not None and time.monotonic() - cached[0] < max_age:
        return cached[1]
    with unavailable_on_failure():
        raw = aws.secretsmanager().get_secret_value(SecretId=secret_id)["SecretString"]
    value: dict[str, Any] = json.loads(raw)
    _cache[secret_id] = (time.monotonic(), value)
    return value


def refresh(secret_id: str, *, min_interval: float = 60) -> dict[str, Any]:
    """Re-read now, unless a forced re-read already happened less than ``min_interval``
    seconds ago (then the cached copy): a flood of unknown key ids costs one read a minute."""
    last = _refreshed.get(secret_id)
    if last is not None and time.monotonic() - last < min_interval and secret_id in _cache:
        return _cache[secret_id][1]
    _refreshed[secret_id] = time.monotonic()
    _cache.pop(secret_id, None)
    return json_secret(secret_id)
