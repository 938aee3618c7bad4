"""Login throttling (CNIL deliberation 2022-100, "restriction d'accès").

After the n-th consecutive failure for an e-mail (n >= 5), the next attempt must wait
2^(n-5) seconds (1 s, 2 s, 4 s ... capped at 15 minutes); earlier attempts get 429 with
``Retry-After`` and neither count nor extend the delay. A successful login resets it.

State: one counter per normalised e-mail (:mod:`oph.accounts.login_lock_store`):
``failures``, ``locked_until``, ``expires_at`` (the count is forgotten 24 hours after the last
failure). It is kept whether or not an account exists, so the lock reveals nothing.

Concurrency: a login *charges* its attempt before checking the password
(:func:`begin_attempt`, a compare-and-set on ``failures``), and a correct password resets
the counter. So 100 simultaneous guesses cannot all pass an unlocked counter: the one that
reaches the 5th failure sets the lock in the same write, the others re-read and get 429.
"""

from __future__ import annotations

from oph.accounts.login_lock_store import login_lock_store
from oph.accounts.model import LoginFailures
from oph.platform import clock
from oph.platform.errors import TooManyRequests
from oph.platform.observability import count

FREE_FAILURES = 5
MAX_DELAY_SECONDS = 15 * 60
FORGET_AFTER_SECONDS = 24 * 3600
_MAX_RETRIES = 20


def delay_after(failures: int) -> float:
    """Seconds the next attempt waits after ``failures`` consecutive failures."""
    if failures < FREE_FAILURES:
        return 0.0
    exponent = failures - FREE_FAILURES
    return float(MAX_DELAY_SECONDS) if exponent >= 10 else float(min(2**exponent, MAX_DELAY_SECONDS))


def _read(email: str, now: float) -> tuple[int | None, int, float]:
    """(stored failures for the compare-and-set, live failures, locked_until)."""
    stored = login_lock_store().get(email)
    if stored is None:
        return None, 0, 0.0
    if stored.expires_at <= now:  # past its TTL, not yet swept
        return stored.failures, 0, 0.0
    return stored.failures, stored.failures, stored.locked_until


def _write(email: str, stored: int | None, failures: int, locked_until: float, now: float) -> bool:
    """Compare-and-set: False when another request changed the counter meanwhile. The count
    is forgotten ``FORGET_AFTER_SECONDS`` after the last failure (or the end of the lock)."""
    counter = LoginFailures(failures, locked_until, max(now, locked_until) + FORGET_AFTER_SECONDS)
    return login_lock_store().compare_and_set(email, stored, counter)


def _refuse(locked_until: float, now: float) -> TooManyRequests:
    count("LoginsLocked")
    return TooManyRequests(retry_after=max(1.0, locked_until - now))


def begin_attempt(email: str) -> None:
    """Check the lock and count this login attempt as a failure, atomically.

    Call :func:`reset` once the password proves right. Raises 429 while locked (and then
    counts nothing).
    """
    for _ in range(_MAX_RETRIES):
        now = clock.now_ts()
        stored, failures, locked_until = _read(email, now)
        if locked_until > now:
            raise _refuse(locked_until, now)
        failures += 1
        delay = delay_after(failures)
        if _write(email, stored, failures, now + delay if delay else 0.0, now):
            return
    raise TooManyRequests(retry_after=1)  # heavy contention on one e-mail: let it calm down


def reset(email: str) -> None:
    """A successful login (or a password reset): the count starts again from zero."""
    login_lock_store().delete(email)
