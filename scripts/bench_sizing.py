"""Memory sizes from measurements (issue 19): each route's CPU time on one core, projected on
Lambda at each memory size, and what 1,000 requests cost.

Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB, a
fraction below (AWS, "Lambda memory and computing power"). A CPU-bound request measured at
``c`` seconds of CPU on one core here therefore takes about ``c × 1769 / M`` at ``M`` MB
(``c`` above 1,769 MB: more memory no longer helps a single thread). The CPU is measured
in-process around the real handler (``time.process_time``), on moto: moto's own work is
counted too, so the projection is an upper bound for the routes that call DynamoDB; bcrypt
(login, registration, password checks) is what dominates and is measured exactly.

Cost per 1,000 requests: duration × memory (GB-s) × the arm64 price per GB-s plus the
request price (us-east-1 list prices, PRICE_GB_S and PRICE_REQUEST below; Paris is within
a few percent).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]

FULL_VCPU_MB = 1769
PRICE_GB_S = 0.0000133334  # arm64, per GB-second
PRICE_REQUEST = 0.20 / 1_000_000
SIZES = (256, 512, 768, 1024, 1280, 1536, 1769)
# Projected p50 targets: login 400 ms (the goal); the rare routes that check or set a
# password (registration step 2, password change, deletion, e-mail change) or render a PDF on
# demand, 1 s; reads 100 ms.
LOGIN_TARGET_S, PASSWORD_TARGET_S, READ_TARGET_S = 0.400, 1.0, 0.100
# An API function's cold start (its imports, CPU-bound) projected at its size: 500 ms.
INIT_TARGET_S = 0.500
# Lambda's arm64 (Graviton) core is slower per request than this machine's for bcrypt and
# interpreted code: sizes are chosen for the measured CPU x SAFETY.
SAFETY = 1.25
MIN_MB = 256  # below, cold starts (CPU-bound imports) get slow for an API


def projected_seconds(cpu_s: float, memory_mb: int) -> float:
    return cpu_s * max(1.0, FULL_VCPU_MB / memory_mb)


def cost_per_thousand(cpu_s: float, memory_mb: int) -> float:
    return 1000 * (projected_seconds(cpu_s, memory_mb) * memory_mb / 1024 * PRICE_GB_S + PRICE_REQUEST)


def smallest_size(cpu_s: float, target_s: float) -> int:
    """The smallest memory (64 MB steps) whose projection of ``cpu_s`` x SAFETY meets the target."""
    needed = FULL_VCPU_MB * cpu_s * SAFETY / target_s
    return int(max(MIN_MB, min(FULL_VCPU_MB, -(-needed // 64) * 64)))  # rounded up to 64 MB


def _cpu_samples(call: Callable[[], Any], count: int) -> list[float]:
    call()
    samples = []
    for _ in range(count):
        start = time.process_time()
        call()
        samples.append(time.process_time() - start)
    return samples


def measure(count: int = 15) -> dict[str, dict[str, Any]]:
    """CPU seconds (median) of each route, keyed by "<function> <route>"."""
    from scripts.bench import _InProcess

    results: dict[str, dict[str, Any]] = {}
    with _InProcess() as env:
        os.environ["BCRYPT_COST"] = "12"
        from oph.platform.settings import reset_caches
        from tests.factories import PASSWORD, log_in, make_account, make_tenant

        reset_caches()
        account = make_account(make_tenant(), "bench.sizing@exemple.com")
        token = log_in(account).access_token
        client = env.client

        def ok(reply: Any) -> Any:
            if reply.status >= 400:
                raise RuntimeError(f"{reply.status} {reply.text[:200]}")
            return reply

        from oph.accounts.passwords import hash_password, verify_password

        stored = hash_password(PASSWORD)

        def get(path: str, auth: bool = True) -> Callable[[], Any]:
            return lambda: ok(client.get(path, token=token if auth else None))

        routes: dict[str, tuple[str, float, Callable[[], Any]]] = {
            "POST /v1/auth/login": (
                "AuthFunction",
                LOGIN_TARGET_S,
                lambda: ok(client.post("/v1/auth/login", {"email": account.email, "password": PASSWORD})),
            ),
            # The password routes' CPU is their bcrypt work (measured alone: a route that
            # changes the password cannot be replayed as is).
            "POST /v1/registrations (one bcrypt hash)": (
                "RegisterFunction",
                PASSWORD_TARGET_S,
                lambda: hash_password(PASSWORD),
            ),
            "PUT /v1/account/password (bcrypt check + hash)": (
                "AccountFunction",
                PASSWORD_TARGET_S,
                lambda: (verify_password(PASSWORD, stored), hash_password(PASSWORD)),
            ),
            "GET /v1/account": ("AccountFunction", READ_TARGET_S, get("/v1/account")),
            "GET /v1/documents": ("NoticesFunction", READ_TARGET_S, get("/v1/documents")),
            "GET /v1/payments/balance": ("PaymentsFunction", READ_TARGET_S, get("/v1/payments/balance")),
            "GET /v1/payments": ("PaymentsFunction", READ_TARGET_S, get("/v1/payments")),
            "GET /v1/office": ("RegisterFunction", READ_TARGET_S, get("/v1/office", auth=False)),
        }
        routes.update(_pdf_routes())
        for route, (function, target, call) in routes.items():
            samples = _cpu_samples(call, count)
            results[route] = {"function": function, "target_s": target, "cpu_s": statistics.median(samples)}
        from oph.accounts import login_lock

        login_lock.reset(account.email)
        os.environ["BCRYPT_COST"] = "4"
        reset_caches()
    return results


def _pdf_routes() -> dict[str, tuple[str, float, Callable[[], Any]]]:
    """The PDFs rendered on demand (scripts/render_demo_documents.py's demo documents)."""
    from scripts import render_demo_documents as demo

    tenancy, holders = demo.demo_tenancy()
    notice = demo.demo_notice()
    return {
        "POST /v1/documents/receipts (a quittance PDF)": (
            "NoticesFunction",
            PASSWORD_TARGET_S,
            lambda: demo.demo_quittance(notice, tenancy, holders),
        ),
        "POST /v1/documents/statements (a statement PDF)": (
            "NoticesFunction",
            PASSWORD_TARGET_S,
            lambda: demo.demo_statement(notice, tenancy, holders),
        ),
        "payment succeeded (its receipt PDF)": (
            "PaymentsFunction",
            PASSWORD_TARGET_S,
            lambda: demo.demo_receipt(tenancy, holders),
        ),
        "PUT /v1/payments/direct-debit (the mandate PDF)": (
            "PaymentsFunction",
            PASSWORD_TARGET_S,
            lambda: demo.demo_mandate(tenancy, holders),
        ),
    }


def recommend(measured: dict[str, dict[str, Any]], init_s: dict[str, float] | None = None) -> dict[str, int]:
    """Per function, the smallest size at which every measured route meets its target, and
    its cold init (``init_s``: seconds on one core, API functions) the init target."""
    sizes: dict[str, int] = {}
    for values in measured.values():
        function = values["function"]
        sizes[function] = max(sizes.get(function, MIN_MB), smallest_size(values["cpu_s"], values["target_s"]))
    for function, seconds in (init_s or {}).items():
        if function in sizes:
            sizes[function] = max(sizes[function], smallest_size(seconds, INIT_TARGET_S))
    return sizes


def template_sizes() -> dict[str, int]:
    from devserver import template as tpl

    default = int(tpl.load()["Globals"]["Function"].get("MemorySize", 128))
    return {f.logical_id: f.memory or default for f in tpl.functions()}  # (Globals already applied)


def run(count: int = 15, init_s: dict[str, float] | None = None) -> dict[str, Any]:
    """The table's figures; ``init_s``: each function's cold init on one core (bench_shipped)."""
    measured = measure(count)
    configured = template_sizes()
    rows = []
    for route, values in measured.items():
        cpu = values["cpu_s"]
        memory = configured.get(values["function"], MIN_MB)
        rows.append(
            {
                "route": route,
                "function": values["function"],
                "target_ms": values["target_s"] * 1000,
                "cpu_ms": cpu * 1000,
                "projected_ms": {size: projected_seconds(cpu, size) * 1000 for size in SIZES},
                "configured_mb": memory,
                "projected_at_configured_ms": projected_seconds(cpu, memory) * 1000,
                "cost_per_1000_usd": cost_per_thousand(cpu, memory),
            }
        )
    return {"routes": rows, "recommended_mb": recommend(measured, init_s), "configured_mb": configured}


if __name__ == "__main__":
    import json

    print(json.dumps(run(5 if "--quick" in sys.argv else 15), indent=2))
