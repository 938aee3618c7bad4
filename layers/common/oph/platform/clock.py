"""The one notion of "now" used everywhere expiry or throttling matters.

Production uses the system clock. The local server moves it with ``POST /_dev/clock`` (an
offset in seconds) so token expiry and throttling windows can be tested without waiting.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_offset_seconds: float = 0.0


def set_offset(seconds: float) -> None:
    global _offset_seconds
    _offset_seconds = float(seconds)


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


def paris_moment(instant: str) -> datetime:
    """An instant as the contract writes it (``YYYY-MM-DDTHH:MM:SSZ``) in Paris local time.

    Every date or time a person reads is Paris time (contract section 1); the API's own
    instants stay UTC.
    """
    return datetime.strptime(instant[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).astimezone(PARIS)


def paris_date(instant: str) -> str:
    """The Paris calendar day (``YYYY-MM-DD``) of a UTC instant."""
    return paris_moment(instant).date().isoformat()


def paris_today() -> str:
    return now().astimezone(PARIS).date().isoformat()
