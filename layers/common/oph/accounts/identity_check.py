"""Registration step 1 ("Inscription étape 1/2"): is this person a holder of that tenancy?

The holder is matched against the office's records (:meth:`oph.tenancy.model.Holder.matches`:
forgiving about form, strict about substance) and gets a registration token (30 minutes,
subject = holder id, only accepted by step 2).

Guessing is capped (contract section 2). Every attempt is *charged* before the records are
read, in one conditional write per counter (:meth:`RateLimiter.charge`), so concurrent
guesses cannot slip past a limit between a check and a count; an attempt that matches is
given back (:meth:`RateLimiter.refund`): only failures count.
- 10 failures for a tenant number within an hour: every attempt for it gets 429 until the
  hour has passed, correct ones included; 50 failures from one client IP likewise.
- 20 failures for a tenant number within 24 hours: every attempt gets 429 until 24 hours
  after the 20th failure (a birth date cannot be found by patient guessing, one hourly
  window after another), and the lock is counted in the ``RegistrationIdentityLocked``
  metric, whose alarm lets the office call the tenant.
Refused attempts count nothing. The records are read the same way whatever turns out to be
wrong: one answer, the same work, for every cause of a mismatch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from oph.accounts import token_store as tokens
from oph.accounts.account_store import account_store
from oph.accounts.model import ACTIVE
from oph.accounts.token_store import token_store
from oph.platform import clock
from oph.platform.errors import AccountExists, FieldErrors, IdentityMismatch, ServiceUnavailable, TooManyRequests
from oph.platform.observability import count
from oph.platform.rate_limit_store import Charge, hashed, rate_limiter
from oph.platform.validation import is_valid_date
from oph.tenancy.model import Holder, normalize_tenant_number
from oph.tenancy.store import tenancy_store

REGISTRATION_TTL = 30 * 60
HOUR = 3600
DAY = 24 * 3600
TENANT_FAILURES = "reg-identity-tenant"
TENANT_DAILY_FAILURES = "reg-identity-tenant-day"
IP_FAILURES = "reg-identity-ip"
TENANT_FAILURE_LIMIT = 10
TENANT_DAILY_LIMIT = 20
IP_FAILURE_LIMIT = 50
BIRTH_DATE_INVALID = "La date de naissance doit être une date au format AAAA-MM-JJ."
_TENANT_NUMBER = re.compile(r"[0-9A-Z]{1,32}")


@dataclass(frozen=True)
class _Counter:
    name: str
    key: str
    limit: int
    window: int


def _check_identity_fields(tenant_number: str, last_name: str, first_name: str, birth_date: str) -> None:
    problems = FieldErrors()
    for field, value in (
        ("tenant_number", tenant_number),
        ("last_name", last_name),
        ("first_name", first_name),
        ("birth_date", birth_date),
    ):
        if not value.strip():
            problems.add(field, "required")
    if birth_date.strip() and not is_valid_date(birth_date.strip()):
        problems.add("birth_date", "invalid_format", BIRTH_DATE_INVALID)
    problems.raise_if_any()


def _counters(number: str, client_ip: str) -> list[_Counter]:
    tenant_key = hashed(number)
    return [
        _Counter(TENANT_FAILURES, tenant_key, TENANT_FAILURE_LIMIT, HOUR),
        _Counter(TENANT_DAILY_FAILURES, tenant_key, TENANT_DAILY_LIMIT, DAY),
        _Counter(IP_FAILURES, hashed(client_ip or "unknown"), IP_FAILURE_LIMIT, HOUR),
    ]


def _charge(counters: list[_Counter]) -> dict[str, Charge]:
    """Charge this attempt to every counter, or to none (429) when one is at its limit."""
    limiter = rate_limiter()
    charged: dict[str, Charge] = {}
    for counter in counters:
        charge = limiter.charge(counter.name, counter.key, limit=counter.limit, window=counter.window)
        if not charge.counted:
            _refund([c for c in counters if c.name in charged])
            raise TooManyRequests(retry_after=charge.seconds_left)
        charged[counter.name] = charge
    return charged


def _refund(counters: list[_Counter]) -> None:
    limiter = rate_limiter()
    for counter in counters:
        limiter.refund(counter.name, counter.key)


def _lock_if_daily_cap_reached(counters: list[_Counter], charged: dict[str, Charge]) -> None:
    daily = next(c for c in counters if c.name == TENANT_DAILY_FAILURES)
    if charged[daily.name].count >= daily.limit:  # this failure is the 20th of the day
        rate_limiter().lock_until(daily.name, daily.key, clock.now_ts() + DAY)
        count("RegistrationIdentityLocked")


def start_registration(
    tenant_number: str, last_name: str, first_name: str, birth_date: str, *, client_ip: str
) -> dict[str, Any]:
    """Match the holder; the 200 body with a registration token, or a typed error."""
    _check_identity_fields(tenant_number, last_name, first_name, birth_date)
    number = normalize_tenant_number(tenant_number)
    counters = _counters(number, client_ip)
    charged = _charge(counters)
    lookup = number if _TENANT_NUMBER.fullmatch(number) else "-"  # never a key DynamoDB refuses
    try:
        holders = tenancy_store().list_holders(lookup)
    except ServiceUnavailable:
        _refund(counters)  # an outage is not the tenant's failure
        raise
    # A holder who left the tenancy (no longer in the office's tenants file) cannot register.
    matching = [h for h in holders if h.left_at is None and h.matches(last_name, first_name, birth_date.strip())]
    if not matching:
        _lock_if_daily_cap_reached(counters, charged)
        raise IdentityMismatch()
    _refund(counters)  # not a failure (an existing account is not one either)
    holder = matching[0]
    existing = account_store().get_by_holder(holder.holder_id)
    if existing is not None and existing.status == ACTIVE:
        raise AccountExists()
    raw = token_store().issue(tokens.REGISTRATION, holder.holder_id, REGISTRATION_TTL, data=_holder_data(holder))
    return {
        "registration_token": raw,
        "expires_in": REGISTRATION_TTL,
        "first_name": holder.first_name,
        "last_name": holder.last_name,
    }


def _holder_data(holder: Holder) -> dict[str, str]:
    return {
        "tenant_number": normalize_tenant_number(holder.tenant_number),
        "last_name": holder.last_name,
        "first_name": holder.first_name,
        "birth_date": holder.birth_date,
    }
