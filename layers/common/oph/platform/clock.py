"""The one notion of "now" used everywhere expiry or throttling matters.

Production uses the system clock. The local server moves it with ``POST /_dev/clock`` (an
offset in seconds) so token expiry and throttling windows can be tested without waiting.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

_offset_seconds: float = 0.0


def set_offset(seconds: float) -> None:
    global _offset_seconds
    _offset_seconds = float(seconds)


def get_offset() -> float:
    return _offset_seconds


def now_ts() -> float:
    """Seconds since the epoch, shifted by the development offset."""
    return time.time() + _offset_seconds


def now() -> datetime:
    return datetime.fromtimestamp(now_ts(), tz=UTC)


def iso_instant(moment: datetime | None = None) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` as the contract writes instants."""
    return (moment or now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def today() -> str:
    return now().date().isoformat()
