"""Twin of :class:`oph.platform.rate_limit_store.RateLimiter`."""

from __future__ import annotations

from oph.platform import clock
from oph.platform.rate_limit_store import Charge


class MemoryRateLimiter:
    def __init__(self) -> None:
        self.windows: dict[tuple[str, str], tuple[int, float]] = {}  # (count, window_ends)

    def _live(self, name: str, key: str) -> tuple[int, float] | None:
        found = self.windows.get((name, key))
        return found if found is not None and found[1] > int(clock.now_ts()) else None

    def current(self, name: str, key: str) -> tuple[int, float]:
        live = self._live(name, key)
        return (live[0], live[1] - clock.now_ts()) if live else (0, 0.0)

    def hit(self, name: str, key: str, window: int) -> int:
        live = self._live(name, key)
        count, ends = (live[0] + 1, live[1]) if live else (1, int(clock.now_ts()) + window)
        self.windows[(name, key)] = (count, ends)
        return count

    def charge(self, name: str, key: str, *, limit: int, window: int) -> Charge:
        now = int(clock.now_ts())
        live = self._live(name, key)
        if live is None:
            self.windows[(name, key)] = (1, now + window)
            return Charge(True, 1, float(window))
        if live[0] >= limit:
            return Charge(False, live[0], live[1] - now)
        self.windows[(name, key)] = (live[0] + 1, live[1])
        return Charge(True, live[0] + 1, live[1] - now)

    def refund(self, name: str, key: str) -> None:
        live = self._live(name, key)
        if live is not None and live[0] > 0:
            self.windows[(name, key)] = (live[0] - 1, live[1])

    def lock_until(self, name: str, key: str, until: float) -> None:
        if (name, key) in self.windows:
            self.windows[(name, key)] = (self.windows[(name, key)][0], int(until))

    def reset(self, name: str, key: str) -> None:
        self.windows.pop((name, key), None)
