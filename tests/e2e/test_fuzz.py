"""Fuzzing the whole JSON API from its committed OpenAPI spec with schemathesis, over HTTP
against the local server: positive data (valid per the spec) and negative data (wrong types,
unknown fields, missing fields, out-of-range values, bad headers), every operation, the
authenticated ones with the bearer token of a tenant registered for the run.

Checks (schemathesis' own): no 5xx; status code, content type, headers (`X-Request-Id`,
`Retry-After`) and body conform to the spec; negative data is rejected (4xx); positive data
is accepted unless the contract refuses it on purpose (see ``REFUSED_WHEN_VALID``); an
authenticated operation refuses a request without or with a wrong token (401).

Sizes: ``make test`` runs a CI-sized, deterministic pass (``FUZZ_EXAMPLES`` unset: at most 12
fuzzed examples per operation, positive and negative mixed, plus the spec's examples and
schemathesis' coverage cases: about 800 requests in about a minute); ``make fuzz`` runs
``FUZZ_EXAMPLES`` (300 by default) random examples per operation.
``FUZZ_REPORT=1`` writes the totals to ``docs/fuzz-latest.json`` (``FUZZ_REPORT=<path>``: there).

Isolation: every fuzzing request leaves from the loopback address ``127.0.0.2``, so the
per-IP registration throttle (50 identity failures an hour) that random identities trip is
the fuzzer's own and never the other end-to-end tests' (127.0.0.1). Nothing is excluded: the
operations that could end the fuzzing session (logout, password change, account deletion)
need the session's refresh token or the account's password, which the fuzzer never has, so
they are fuzzed like the others and answer 401/403/422.
"""

from __future__ import annotations

import contextvars
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from requests.adapters import HTTPAdapter

from tests.conftest import ROOT
from tests.e2e.conftest import HttpClient
from tests.e2e.tenants import register_tenant

pytestmark = pytest.mark.e2e

LONG_RUN = "FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
SOURCE_ADDRESS = "127.0.0.2"
REPORT_PATH = ROOT / "docs" / "fuzz-latest.json"
# Identity fuzzing mostly trips the per-IP throttle after 50 failures (then 429): a few
# examples cover the validation path, the long run covers the throttled answers as well.
SMALL_BUDGET = {"POST /v1/registrations/identity": max(4, EXAMPLES // 4)}
# Valid per the spec, refused by the contract on purpose (a JSON schema cannot say it):
# an unknown or used token (400), identity mismatch (400), the password policy, the
# confirmations, accepted terms, the e-mail format and the period format (422).
REFUSED_WHEN_VALID = {
    "POST /v1/registrations/identity": ["400", "422"],
    "POST /v1/registrations": ["400", "422"],
    "POST /v1/registrations/verify": ["400"],
    "POST /v1/registrations/resend": ["422"],
    "POST /v1/auth/password/forgot": ["422"],
    "POST /v1/auth/password/reset": ["400", "422"],
    "POST /v1/account/email": ["422"],
    "POST /v1/account/email/confirm": ["400"],
    "PUT /v1/account/password": ["422"],
    "GET /v1/documents": ["422"],
    "POST /v1/documents/receipts": ["422"],
    "GET /v1/payments/statement": ["422"],  # a range over 731 days, or from after to
    "POST /v1/documents/statements": ["422"],  # the same range rules
    "PUT /v1/payments/direct-debit": ["422"],  # an IBAN's mod-97 key, accept_mandate that must be true
    "POST /v1/payments/notifications/{provider}": ["400"],
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
REJECTED = ["400", "401", "403", "404", "409", "413", "415", "422", "429", "5xx"]

_operation: contextvars.ContextVar[str] = contextvars.ContextVar("operation", default="-")


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    cases: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: dict[str, set[str]] = field(default_factory=dict)


class FuzzSession(requests.Session):
    """Every request of the fuzzer (its cases and the checks' own re-sends) leaves from
    ``SOURCE_ADDRESS`` and is counted against the operation under test."""

    def __init__(self, stats: Stats) -> None:
        super().__init__()
        self.stats = stats
        adapter = _SourceAdapter()
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.stats.requests[_operation.get()] += 1
        return super().send(request, **kwargs)


class _SourceAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (SOURCE_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Tenant:
    """A tenant imported like the office does, registered and logged in through the API."""

    base: str
    number: str
    email: str
    access_token: str
    refresh_token: str
    issued: float
    payment_id: str
    document_id: str

    def bearer(self) -> str:
        if time.monotonic() - self.issued > 600:  # access tokens last 15 minutes
            reply = requests.post(
                self.base + "/v1/auth/refresh", json={"refresh_token": self.refresh_token}, timeout=60
            )
            assert reply.status_code == 200, reply.text
            self.access_token, self.refresh_token = reply.json()["access_token"], reply.json()["refresh_token"]
            self.issued = time.monotonic()
        return self.access_token


def _register(api: Any, server: str) -> Tenant:
    registered = register_tenant(
        api, last_name="FUZZ", first_name="Ines", birth_date="1990-01-31", prefix="fuzz", first_digit=8
    )
    number, email = registered.tenant_number, registered.email
    tokens = {"access_token": registered.access_token, "refresh_token": registered.refresh_token}
    payment = api.post(
        "/v1/payments",
        {"amount_cents": 22000},
        token=tokens["access_token"],
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert payment.status == 201, payment.text
    notice = (
        "tenant_number;period;issue_date;due_date;label;category;amount;balance;balance_date\n"
        f"{number};2019-05;2019-05-24;2019-06-10;Loyer;rent;175,03;220,00;2019-05-23\n"
        f"{number};2019-05;2019-05-24;2019-06-10;Provisions charges;charges;44,97;220,00;2019-05-23\n"
    ).encode()
    imported = api.request("POST", "/_dev/imports/notices", body=notice, query=f"name=fuzz-{number}.csv")
    assert imported.status == 200 and imported.json()["documents_created"] == 1, imported.text
    documents = api.get("/v1/documents", token=tokens["access_token"])
    assert documents.status == 200, documents.text
    return Tenant(
        base=server,
        number=number,
        email=email,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        issued=time.monotonic(),
        payment_id=payment.json()["id"],
        document_id=documents.json()["items"][0]["id"],
    )


@pytest.fixture(scope="module")
def tenant(server: str) -> Tenant:
    api = HttpClient(server)
    api.set_clock(0)
    return _register(api, server)


@pytest.fixture(scope="module")
def stats(request: pytest.FixtureRequest) -> Iterator[Stats]:
    collected = Stats()
    started = time.monotonic()
    yield collected
    report = _report(collected, time.monotonic() - started)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(
            f"\nfuzz ({report['run']}): {report['requests']} requests, {report['cases']} cases over "
            f"{report['operations']} operations in {report['duration_seconds']} s, {report['failures']} failures"
        )
    target = os.environ.get("FUZZ_REPORT", "")
    if target:
        path = REPORT_PATH if target == "1" else Path(target)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def session(stats: Stats) -> Iterator[FuzzSession]:
    with FuzzSession(stats) as fuzz_session:
        yield fuzz_session


def _report(stats: Stats, duration: float) -> dict[str, Any]:
    return {
        "tool": f"schemathesis {schemathesis.__version__}",
        "run": "long (make fuzz)" if LONG_RUN else "CI-sized (make test)",
        "max_examples_per_operation": EXAMPLES,
        "data": "deterministic" if not LONG_RUN else "random",
        "modes": ["positive", "negative"],
        "phases": ["examples", "coverage", "fuzzing"],
        "source_address": SOURCE_ADDRESS,
        "duration_seconds": round(duration),
        "operations": len(stats.cases),
        "cases": sum(stats.cases.values()),
        "requests": sum(stats.requests.values()),
        "failures": sum(len(v) for v in stats.failures.values()),
        "per_operation": {
            label: {
                "cases": stats.cases[label],
                "requests": stats.requests[label],
                "statuses": {str(k): v for k, v in sorted(stats.statuses.get(label, Counter()).items())},
                "failures": sorted(stats.failures.get(label, set())),
            }
            for label in sorted(stats.cases)
        },
        "excluded": [],
        "limited": {label: f"max {budget} fuzzed examples (per-IP throttle)" for label, budget in SMALL_BUDGET.items()},
    }


def _config() -> schemathesis.Config:
    operations: list[dict[str, Any]] = [
        {"include-name": label, "generation": {"max-examples": budget}} for label, budget in SMALL_BUDGET.items()
    ]
    operations += [
        {"include-name": label, "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + extra}}}
        for label, extra in REFUSED_WHEN_VALID.items()
    ]
    return schemathesis.Config.from_dict(
        {
            "suppress-health-check": ["all"],
            "request-timeout": 60,
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": not LONG_RUN,
                "database": "none",
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True, "unexpected-methods": []},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                # A body over 64 KiB (e.g. a password past its maxLength) is refused with 413.
                "negative_data_rejection": {"expected-statuses": REJECTED},
            },
            "operations": operations,
        }
    )


schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json", config=_config())


@schema.parametrize()
def test_api_conforms_to_its_spec(case: Any, tenant: Tenant, stats: Stats, session: FuzzSession, server: str) -> None:
    label = f"{case.method} {case.operation.path}"
    token = _operation.set(label)
    stats.cases[label] += 1
    try:
        _use_real_resource(case, tenant, stats.cases[label])
        if isinstance(case.body, dict) and case.meta is not None and case.meta.generation.mode.is_positive:
            case.body = _integral_floats_as_ints(case.body)
        response = case.call_and_validate(base_url=server, session=session, headers=_auth(case, tenant))
        stats.statuses.setdefault(label, Counter())[response.status_code] += 1
    except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
        stats.failures.setdefault(label, set()).add(_failure_title(exc))
        raise
    finally:
        _operation.reset(token)


def _auth(case: Any, tenant: Tenant) -> dict[str, str] | None:
    """The generated bearer token of a secured operation replaced by the tenant's real one.
    A case that left the header out or malformed it (negative data) is sent as generated:
    it must be refused with 401."""
    current = (case.headers or {}).get("Authorization")
    if isinstance(current, str) and current.startswith("Bearer "):
        return {"Authorization": f"Bearer {tenant.bearer()}"}
    return None


def _use_real_resource(case: Any, tenant: Tenant, count: int) -> None:
    """Random ids and providers only ever meet a 404: every other positive case targets a
    real one (the tenant's own payment or notice, a real gateway), so the 200 answers and the
    gateway's form checks are fuzzed and checked against the spec too."""
    if count % 2 or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    path = case.operation.path
    if path == "/v1/payments/{id}":
        case.path_parameters["id"] = tenant.payment_id
    elif path == "/v1/documents/{id}/download":
        case.path_parameters["id"] = tenant.document_id
    elif path == "/v1/payments/notifications/{provider}":
        case.path_parameters["provider"] = "sandbox" if count % 4 else "systempay"


def _integral_floats_as_ints(value: Any) -> Any:
    """JSON Schema counts 22000.0 as an integer; the API takes amounts as strict integers
    (22000.0 is refused with 422 invalid_format), so valid data writes them without fraction."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    return value


def _failure_title(exc: BaseException) -> str:
    failures = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(
        sorted({f"{getattr(f, 'code', type(f).__name__)} {getattr(f, 'title', str(f))}" for f in failures})
    )
