"""`make bench`: the performance figures of docs/PERFORMANCE.md, each ratio measured in the
same run as its baseline, each figure a median over several runs. Benchmarks report; they
never fail the build (the machines are shared and noisy).

Sections: 1. cold init of each function, 2. warm latency of the routes, 3. login vs one
bcrypt check, 4. PDF notices per second and the projected 150,000-row import, 4b. the
150,000-row movements import, 5. package size after `sam build` and peak memory per function.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
OUT = ROOT / "docs" / "PERFORMANCE.md"
PY = sys.executable
QUICK = os.environ.get("BENCH_QUICK") == "1"

FUNCTION_MODULES = {
    "register": "functions.register.app",
    "auth": "functions.auth.app",
    "account": "functions.account.app",
    "notices": "functions.notices.app",
    "payments": "functions.payments.app",
}


def _bench_env() -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT}",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    from devserver import template as tpl

    resolver = tpl.Resolver(tpl.parameter_defaults(), {}, {})
    for key, value in tpl.load()["Globals"]["Function"]["Environment"]["Variables"].items():
        env.setdefault(key, str(resolver.resolve(value)))
    return env


def _goal(met: bool, goal: str) -> str:
    return f"{'met' if met else '**not met**'} ({goal})"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class _InProcess:
    """The handler tier's runtime on in-process moto: the same objects the tests use."""

    def __enter__(self) -> _InProcess:
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": "eu-west-3",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            }
        )
        os.environ.pop("AWS_ENDPOINT_URL", None)
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        from devserver.aws_local import create_resources
        from devserver.runtime import Runtime
        from oph.platform.settings import reset_caches

        reset_caches()
        self.local = create_resources("https://app.bench")
        self.runtime = Runtime(self.local.shared_environment())
        from tests.fixtures import InProcessClient

        self.client = InProcessClient(self.runtime)
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.stop()


def _time_calls(call: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def warm_latency(rows: list[list[str]]) -> dict[str, Any]:

    from tests.factories import tenant_with_login

    count = 40 if QUICK else 300
    result: dict[str, Any] = {}
    with _InProcess() as env:
        # Baseline: one DynamoDB GetItem (of the caller's account item, a real one) through
        # the same edge and resolver.
        from oph.accounts.account_store import account_key
        from oph.platform import aws
        from oph.platform.http import Api
        from oph.platform.settings import get_settings

        _, login = tenant_with_login()
        token = login.access_token
        baseline_api = Api(public=["GET /baseline/<key>"])

        @baseline_api.resolver.get("/baseline/<key>")
        def _baseline(key: Annotated[str, PathParam()]) -> dict[str, Any]:
            item = (
                aws.dynamodb()
                .get_item(TableName=get_settings().tenants_table, Key=account_key(key), ConsistentRead=True)
                .get("Item")
            )
            return {"found": bool(item)}

        handler = baseline_api.lambda_handler()
        from devserver import events

        account_id = login.account.account_id
        event = events.api_event(
            "GET", f"/baseline/{account_id}", resource="/baseline/{key}", path_parameters={"key": account_id}
        )
        context = events.LambdaContext("baseline", 256, 10)
        for _ in range(20):
            reply = handler(event, context)
            assert reply["body"] == '{"found":true}', reply
        base = _time_calls(lambda: handler(event, context), count)
        base_p50, base_p99 = statistics.median(base), _percentile(base, 0.99)
        rows.append(
            [
                "**Baseline**: one GetItem through the same edge",
                f"{base_p50 * 1000:.2f} ms",
                f"{base_p99 * 1000:.2f} ms",
                "1.00",
                "",
            ]
        )
        result["baseline"] = {"p50_ms": base_p50 * 1000, "p99_ms": base_p99 * 1000}

        reads = _read_routes(env, token)
        for label, call in reads:
            try:
                call()
            except Exception as exc:  # a route that cannot be exercised is reported, not hidden
                rows.append([label, "n/a", "n/a", "", f"not measured: {type(exc).__name__}"])
                continue
            for _ in range(10):
                call()
            samples = _time_calls(call, count)
            p50, p99 = statistics.median(samples), _percentile(samples, 0.99)
            ratio = p50 / base_p50
            result[label] = {"p50_ms": p50 * 1000, "p99_ms": p99 * 1000, "ratio": ratio}
            rows.append(
                [label, f"{p50 * 1000:.2f} ms", f"{p99 * 1000:.2f} ms", f"{ratio:.2f}", _goal(ratio <= 2.0, "≤ 2")]
            )
    return result


def _read_routes(env: _InProcess, token: str) -> list[tuple[str, Callable[[], Any]]]:
    client = env.client

    def get(path: str, **kw: Any) -> Callable[[], Any]:
        def call() -> Any:
            reply = client.get(path, token=token, **kw)
            if reply.status >= 400:
                raise RuntimeError(f"{path} answered {reply.status}")
            return reply

        return call

    routes = [
        ("`GET /v1/account`", get("/v1/account")),
        ("`GET /v1/account/preferences`", get("/v1/account/preferences")),
        ("`GET /v1/documents`", get("/v1/documents")),
        ("`GET /v1/payments/balance`", get("/v1/payments/balance")),
        ("`GET /v1/payments`", get("/v1/payments")),
    ]
    return routes


def login(rows: list[list[str]]) -> dict[str, Any]:
    """Login p50 against one bcrypt check at the production cost (12), same process."""
    count = 5 if QUICK else 21
    with _InProcess() as env:
        os.environ["BCRYPT_COST"] = "12"
        from oph.accounts.passwords import hash_password, verify_password
        from oph.platform.settings import reset_caches
        from tests.factories import make_account, make_tenant

        reset_caches()
        password = "Correct-Cheval-Pile-42"
        account = make_account(make_tenant(), "bench.login@exemple.com", password)
        stored = hash_password(password)
        client = env.client

        def known() -> None:
            reply = client.post("/v1/auth/login", {"email": account.email, "password": password})
            assert reply.status == 200, reply.text

        def unknown() -> None:
            reply = client.post("/v1/auth/login", {"email": "personne@exemple.com", "password": password})
            assert reply.status == 401, reply.text

        def wrong() -> None:
            reply = client.post("/v1/auth/login", {"email": account.email, "password": password + "x"})
            assert reply.status == 401, reply.text

        from oph.accounts import login_lock as login_throttle

        known()
        samples: dict[str, list[float]] = {"bcrypt": [], "known": [], "unknown": [], "wrong": []}
        for _ in range(count):  # interleaved; the login lock is lifted outside the timing
            samples["bcrypt"] += _time_calls(lambda: verify_password(password, stored), 1)
            samples["known"] += _time_calls(known, 1)
            samples["unknown"] += _time_calls(unknown, 1)
            samples["wrong"] += _time_calls(wrong, 1)
            login_throttle.reset("personne@exemple.com")
            login_throttle.reset(account.email)
        os.environ["BCRYPT_COST"] = "4"
        reset_caches()
    b, k, u, w = (statistics.median(samples[n]) for n in ("bcrypt", "known", "unknown", "wrong"))
    rows.append(["one bcrypt check (cost 12)", f"{b * 1000:.0f} ms", "1.00", ""])
    rows.append(
        [
            "login, known e-mail, right password (p50)",
            f"{k * 1000:.0f} ms",
            f"{k / b:.2f}",
            _goal(k / b <= 1.2, "≤ 1.2"),
        ]
    )
    rows.append(["login, known e-mail, wrong password (p50)", f"{w * 1000:.0f} ms", f"{w / b:.2f}", ""])
    rows.append(
        [
            "login, unknown e-mail (p50)",
            f"{u * 1000:.0f} ms",
            f"{u / k:.2f} of known (right), {u / w:.2f} of known (wrong)",
            _goal(0.9 <= u / k <= 1.1 and 0.9 <= u / w <= 1.1, "0.9–1.1"),
        ]
    )
    return {"bcrypt_ms": b * 1000, "login_ms": k * 1000, "unknown_ms": u * 1000, "wrong_ms": w * 1000}


def pdf_rate(rows: list[list[str]]) -> dict[str, Any]:
    """Notices rendered and stored per second on one core, and a 1,000-notice batch's memory."""
    code = (ROOT / "scripts" / "bench_notices.py").read_text(encoding="utf-8")
    out = subprocess.run(
        [PY, "-c", code, "1000" if not QUICK else "150"], env=_bench_env(), capture_output=True, text=True, cwd=ROOT
    )
    if out.returncode != 0:
        rows.append(["PDF notices per second", "n/a", "", f"not measured: {out.stderr.strip().splitlines()[-1:]}"])
        return {}
    data = json.loads(out.stdout.strip().splitlines()[-1])
    rate = data["per_second"]
    rows.append(
        [
            "PDF notices per second, one core, incl. S3 put to moto",
            f"{rate:.0f} /s",
            _goal(rate >= 250, "≥ 250/s (stretch 300)"),
        ]
    )
    if "per_cpu_second" in data:
        rows.append(
            ["the same, per CPU-second of the worker (moto's core left out)", f"{data['per_cpu_second']:.0f} /s", ""]
        )
    rows.append([f"peak memory of a {data['count']}-notice batch", f"{data['peak_mb']:.0f} MB", ""])
    concurrency = _worker_concurrency()
    projected = 150_000 / (rate * concurrency)
    rows.append(
        [
            f"projected 150,000-notice import at the template's concurrency ({concurrency} workers)",
            f"{projected:.0f} s",
            _goal(projected < 900, "inside Lambda's 15 min"),
        ]
    )
    return {**data, "projected_seconds": projected}


def mail_queue(rows: list[list[str]]) -> dict[str, Any]:
    """The e-mails of a 150,000-notice publication through the mail queue (scripts/bench_mail.py)."""
    from scripts.bench_mail import run

    count = 15_000 if QUICK else 150_000
    data = run(count)
    projection, simulated, throttled = data["projection"], data["simulated"], data["simulated_throttling"]
    rows.append(["sender CPU per queued e-mail (read, MIME)", f"{projection['cost_ms_per_email']:.2f} ms", ""])
    rows.append(
        [
            f"projected: {count:,} e-mails at 14/s quota, {projection['senders']} senders ({projection['bound_by']})",
            f"{projection['hours']:.1f} h at {projection['rate_used_per_second']:.1f}/s",
            _goal(projection["rate_used_per_second"] <= 14, "≤ the account's rate"),
        ]
    )
    rows.append(
        [
            f"simulated (virtual clock): {simulated['emails']:,} e-mails, SES at 14/s",
            f"{simulated['sent']:,} sent, {simulated['sent_twice']} twice, {simulated['dead_lettered']} DLQ, "
            f"{simulated['throttled_answers']} throttled, {simulated['hours']:.1f} h",
            _goal(simulated["dead_lettered"] == 0 and simulated["sent_twice"] == 0, "0 DLQ, 0 duplicates"),
        ]
    )
    rows.append(
        [
            f"simulated: {throttled['emails']:,} e-mails, SES allowing 5/s of a 14/s quota, 1 in 50 delivered twice",
            f"{throttled['sent']:,} sent, {throttled['sent_twice']} twice, {throttled['dead_lettered']} DLQ, "
            f"{throttled['throttled_answers']} throttled",
            _goal(throttled["dead_lettered"] == 0 and throttled["sent_twice"] == 0, "0 DLQ, 0 duplicates"),
        ]
    )
    return data


MOVEMENTS_PER_TENANCY = 15


def movements_import(rows: list[list[str]]) -> dict[str, Any]:
    """The movements import (contract section 8) of a 150,000-row file: rows per second and
    projected time, first import and the same file again, and the process's peak memory.

    Run in a fresh process (``--movements-import N``) so the peak is the import's own."""
    count = 15_000 if QUICK else 150_000
    out = subprocess.run(
        [PY, str(ROOT / "scripts" / "bench.py"), "--movements-import", str(count)],
        env=_bench_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        rows.append(["movements import", "n/a", f"not measured: {out.stderr.strip().splitlines()[-1:]}"])
        return {}
    data = json.loads(out.stdout.strip().splitlines()[-1])
    for label, key in (("first import", "first_seconds"), ("same file again (nothing written)", "again_seconds")):
        rate = data["rows"] / data[key]
        projected = 150_000 / rate
        rows.append(
            [
                f"movements import, {data['rows']:,} rows ({data['tenancies']:,} tenancies), {label}",
                f"{rate:,.0f} rows/s, {data[key]:.0f} s",
                "",
            ]
        )
        rows.append(
            [
                f"projected 150,000-row movements import, {label}",
                f"{projected:.0f} s",
                _goal(projected < 900, "< 900 s"),
            ]
        )
        data[f"{key.removesuffix('_seconds')}_rows_per_second"] = rate
        data[f"{key.removesuffix('_seconds')}_projected_seconds"] = projected
    rows.append(
        [
            "peak memory of the movements import process (moto's in-process tables included)",
            f"{data['peak_mb']:.0f} MB",
            _goal(data["peak_mb"] <= 1024, "fits 1024 MB"),
        ]
    )
    return data


def _movements_child(count: int) -> None:
    """``bench.py --movements-import N``: one movements file of N rows imported twice through
    the import use case (``import_object``, what the S3-triggered function runs) on in-process
    moto; prints one JSON line."""
    with _InProcess() as env:
        import moto.dynamodb.models as moto_dynamodb

        from oph.imports.service import import_object
        from oph.platform import aws
        from oph.platform.aws import dynamo
        from oph.platform.settings import get_settings
        from oph.tenancy.store import TENANCY_SK, tenancy_pk

        # moto deep-copies the whole table once per item of every TransactWriteItems (to roll
        # it back on failure), which makes a transaction cost the table's size; DynamoDB does
        # nothing like it, so the bench turns that copy off (nothing here fails).
        moto_dynamodb.copy = type("NoCopy", (), {"deepcopy": staticmethod(lambda value: value)})  # type: ignore[assignment]
        tenancies = max(1, count // MOVEMENTS_PER_TENANCY)
        numbers = [str(200000 + i) for i in range(tenancies)]
        dynamo.batch_write(
            get_settings().tenants_table,
            [
                {"PutRequest": {"Item": {**dynamo.key(tenancy_pk(n), TENANCY_SK), "tenant_number": {"S": n}}}}
                for n in numbers
            ],
        )
        lines = ["tenant_number;date;label;amount;reference"]
        for i in range(count):
            month, day = 1 + (i // tenancies) % 12, 1 + i % 28
            lines.append(
                f"{numbers[i % tenancies]};{day:02d}/{month:02d}/2019;Loyer;{200 + i % 97},{i % 100:02d};M-{i}"
            )
        key = "imports/movements/bench.csv"
        aws.s3().put_object(Bucket=env.local.bucket, Key=key, Body=("\n".join(lines) + "\n").encode())
        del lines
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            report = import_object(env.local.bucket, key)
            timings.append(time.perf_counter() - start)
            assert report["rows_accepted"] == count, report["rejected"][:3]
    print(
        json.dumps(
            {
                "rows": count,
                "tenancies": tenancies,
                "first_seconds": timings[0],
                "again_seconds": timings[1],
                "peak_mb": _peak_mb(),
            }
        )
    )


def _peak_mb() -> float:
    """VmHWM: this process's own peak resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _worker_concurrency() -> int:
    from devserver import template as tpl

    props = tpl.load()["Resources"]["NoticeWorkerFunction"]["Properties"]
    # The SQS source's cap (no reserved concurrency: issue 18 point 2).
    scaling = props["Events"]["Batches"]["Properties"].get("ScalingConfig", {})
    return int(scaling.get("MaximumConcurrency", 10))


def peak_memory(rows: list[list[str]]) -> dict[str, Any]:
    code = (ROOT / "scripts" / "bench_memory.py").read_text(encoding="utf-8")
    result = {}
    for name in (*FUNCTION_MODULES, "notice-worker"):
        out = subprocess.run([PY, "-c", code, name], env=_bench_env(), capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            rows.append([f"`{name}`", "n/a", f"not measured: {out.stderr.strip().splitlines()[-1:]}"])
            continue
        data = json.loads(out.stdout.strip().splitlines()[-1])
        limit = 256 if name != "notice-worker" else 1024
        rows.append(
            [
                f"`{name}` ({data['route']})",
                f"{data['peak_mb']:.0f} MB",
                _goal(data["peak_mb"] <= limit, f"fits {limit} MB"),
            ]
        )
        result[name] = data
    return result


def shipped() -> tuple[str, dict[str, Any]]:
    """Cold init and deployed size of each function as it ships (scripts/bench_shipped.py)."""
    from scripts import bench_shipped

    result = bench_shipped.run()
    return bench_shipped.table(result), result


def sizing(shipped_result: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Each route's CPU projected on Lambda at the template's memory (scripts/bench_sizing.py),
    and each function's cold init projected the same way."""
    from scripts import bench_sizing as sz

    init_s = {n: f["init_ms"] / 1000 for n, f in shipped_result["functions"].items() if f["api"] and "init_ms" in f}
    data = sz.run(5 if QUICK else 15, init_s)
    configured, recommended = data["configured_mb"], data["recommended_mb"]
    rows = []
    for r in data["routes"]:
        met = r["projected_at_configured_ms"] <= r["target_ms"]
        rows.append(
            [
                r["route"],
                f"`{r['function']}`",
                f"{r['cpu_ms']:.1f} ms",
                f"{r['configured_mb']} MB",
                f"{r['projected_at_configured_ms']:.0f} ms",
                _goal(met, f"≤ {r['target_ms']:.0f} ms"),
                f"${r['cost_per_1000_usd']:.5f}",
            ]
        )
    table = _table(
        ["route", "function", "CPU, one core", "memory", "projected on Lambda", "goal", "cost / 1,000"], rows
    )
    init_rows = []
    for name, f in shipped_result["functions"].items():
        if "init_ms" in f:
            memory = configured.get(name, 256)
            init_rows.append(
                [
                    f"`{name}`",
                    f"{f['init_ms']:.0f} ms",
                    f"{memory} MB",
                    f"{sz.projected_seconds(f['init_ms'] / 1000, memory) * 1000:.0f} ms",
                    f"{recommended.get(name, '')}",
                ]
            )
    init_table = _table(
        ["function", "cold init, one core", "memory", "cold init projected", "smallest size (routes and cold init)"],
        init_rows,
    )
    text = (
        f"{table}\n\nCold init on Lambda at the same sizes (section 1's import time, CPU-bound):\n\n{init_table}\n\n"
        f"Targets: an API function's cold init {sz.INIT_TARGET_S * 1000:.0f} ms; login {sz.LOGIN_TARGET_S * 1000:.0f} ms; the routes that check or set a password or render a PDF "
        f"{sz.PASSWORD_TARGET_S * 1000:.0f} ms; reads {sz.READ_TARGET_S * 1000:.0f} ms. Sizes are chosen for the "
        f"measured CPU × {sz.SAFETY} (Lambda's arm64 core is slower per request than this machine's), "
        f"never below {sz.MIN_MB} MB (cold starts). Cost: arm64 ${sz.PRICE_GB_S}/GB-s + $0.20 per million requests."
    )
    return text, data


# The figures before issue 19 (docs/PERFORMANCE.md of 2026-11-28 and the issue's own measurements).
BEFORE = {
    "init": "2.64–2.90 as shipped (1.46–1.54 pre-warmed)",
    "small": "28.9 MB (one layer)",
    "every": "28.9 MB",
    "login": "1.5–2.2 s at 256 MB",
    "notices": "154 /s (93 /s wall)",
    "reads": "≤ 2.49 (`GET /v1/payments`)",
    "make_test": "≈ 7 min (6 min 43 s – 6 min 58 s)",
}


# Measured by hand (not part of `make bench`): scripts/bench_notes.md says how.
MAKE_TEST_AFTER = "4 min 53 s (2026-11-29)"


def goals(
    shipped_result: dict[str, Any], sizing_data: dict[str, Any], warm: dict[str, Any], pdf: dict[str, Any]
) -> str:
    """The issue's goals, before and after, from this run's figures."""
    functions = shipped_result["functions"]
    api = [f for f in functions.values() if f["api"] and "ratio" in f]
    small = [f["size_mb"] for n, f in functions.items() if n in ("RegisterFunction", "AuthFunction", "AccountFunction")]
    login = next((r for r in sizing_data["routes"] if r["route"] == "POST /v1/auth/login"), None)
    ratios = [v["ratio"] for k, v in warm.items() if isinstance(v, dict) and "ratio" in v]
    rows = [
        [
            "cold init as shipped / (boto3 + one client), API functions",
            BEFORE["init"],
            f"{min(f['ratio'] for f in api):.2f}–{max(f['ratio'] for f in api):.2f}" if api else "n/a",
            _goal(bool(api) and max(f["ratio"] for f in api) <= 1.3, "≤ 1.3"),
        ],
        [
            "deployed size: register, auth, account",
            BEFORE["small"],
            f"{max(small):.1f} MB" if small else "n/a",
            _goal(bool(small) and max(small) <= 12, "≤ 12 MB"),
        ],
        [
            "deployed size: every function",
            BEFORE["every"],
            f"{max(f['size_mb'] for f in functions.values()):.1f} MB",
            _goal(max(f["size_mb"] for f in functions.values()) <= 25, "≤ 25 MB"),
        ],
        [
            "projected login on Lambda at the configured memory",
            BEFORE["login"],
            f"{login['projected_at_configured_ms']:.0f} ms at {login['configured_mb']} MB" if login else "n/a",
            _goal(bool(login) and login["projected_at_configured_ms"] <= 400, "≤ 400 ms"),
        ],
        [
            "notices per second on one core, real worker path with S3 put: per CPU-second of the worker's core"
            " (wall clock, bound by moto on the other core)",
            BEFORE["notices"],
            f"{pdf.get('per_cpu_second', 0):.0f} /s ({pdf.get('per_second', 0):.0f} /s wall)",
            _goal(pdf.get("per_cpu_second", 0) >= 250, "≥ 250 /s, stretch 300"),
        ],
        [
            "warm read routes p50 / GetItem baseline",
            BEFORE["reads"],
            f"≤ {max(ratios):.2f}" if ratios else "n/a",
            _goal(bool(ratios) and max(ratios) <= 2.0, "≤ 2.0 each"),
        ],
        ["`make test` on a fresh clone, 2 cores", BEFORE["make_test"], MAKE_TEST_AFTER, "met (≤ 5 min)"],
    ]
    return "## Goals (issue 19): before and after\n\n" + _table(["figure", "before", "this run", "goal"], rows)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    started = time.perf_counter()
    sections: list[tuple[str, list[str] | None, Any]] = []
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    shipped_text, shipped_result = shipped()
    sections.append(("1. Cold init and deployed size, as shipped", None, shipped_text))
    rows = []
    warm = warm_latency(rows)
    sections.append(
        ("2. Warm latency (in-process handlers on in-process moto)", ["route", "p50", "p99", "p50 ratio", "goal"], rows)
    )
    rows = []
    login(rows)
    sections.append(("3. Login", ["measure", "median", "ratio", "goal"], rows))
    sizing_text, sizing_data = sizing(shipped_result)
    sections.append(("3b. Memory sizes: each route projected on Lambda", None, sizing_text))
    rows = []
    pdf = pdf_rate(rows)
    sections.append(("4. PDF notices", ["measure", "value", "goal"], rows))
    rows = []
    mail_queue(rows)
    sections.append(("4a. E-mails of a bulk publication (mail queue)", ["measure", "value", "goal"], rows))
    rows = []
    movements_import(rows)
    sections.append(
        ("4b. Movements import (in-process handlers on in-process moto)", ["measure", "value", "goal"], rows)
    )
    rows = []
    peak_memory(rows)
    sections.append(("5. Peak memory on the heaviest route", ["function", "peak RSS", "goal"], rows))

    text = [
        "# Performance",
        "",
        f"Measured by `make bench` on {date} — {machine}. Each figure is a median over several runs;",
        "each ratio is measured in the same run as its baseline. Benchmarks report; they never fail the build.",
        "",
    ]
    text += [goals(shipped_result, sizing_data, warm, pdf), ""]
    for title, header, section_rows in sections:
        body = section_rows if header is None else _table(header, section_rows)
        text += [f"## {title}", "", body, ""]
    notes = ROOT / "scripts" / "bench_notes.md"
    if notes.exists():
        text += [notes.read_text(encoding="utf-8")]
    text.append(f"_Bench run time: {time.perf_counter() - started:.0f} s._")
    OUT.write_text("\n".join(text) + "\n", encoding="utf-8")
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--movements-import"]:
        _movements_child(int(sys.argv[2]))
        raise SystemExit(0)
    raise SystemExit(main())
