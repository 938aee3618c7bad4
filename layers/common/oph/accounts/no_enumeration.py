"""Answers that must not tell whether an address has an account also take the same time.

"Forgot password" and "resend the verification link" answer 202 whatever the address; the
work behind them (reading an account, issuing a token, sending an e-mail) would still show in
the response time. Each lasts at least ``MIN_SECONDS``, longer than that work takes, so a
known address and an unknown one cannot be told apart by the clock either.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

MIN_SECONDS = 0.4


@contextmanager
def uniform_duration() -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        left = MIN_SECONDS - (time.monotonic() - started)
        if left > 0:
            time.sleep(left)
