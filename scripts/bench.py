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
import shutil
import statistics
import subprocess
import sys
import tempfile
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


def _fresh_import_seconds(code: str, env: dict[str, str]) -> float:
    program = f"import time\nt = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    out = subprocess.run([PY, "-c", program], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def cold_init(rows: list[list[str]]) -> dict[str, Any]:
    env = _bench_env()
    runs = 3 if QUICK else 9
    baseline_code = "import boto3\nboto3.client('dynamodb', region_name='eu-west-3')"
    # warm the OS file cache and the .pyc files once
    _fresh_import_seconds(baseline_code, env)
    for module in FUNCTION_MODULES.values():
        _fresh_import_seconds(f"import {module}", env)
    samples: dict[str, list[float]] = {"baseline": [], **{name: [] for name in FUNCTION_MODULES}}
    for _ in range(runs):  # interleaved, so noise hits every measure alike
        samples["baseline"].append(_fresh_import_seconds(baseline_code, env))
        for name, module in FUNCTION_MODULES.items():
            samples[name].append(_fresh_import_seconds(f"import {module}", env))
    check = subprocess.run(
        [PY, "-c", "import sys, functions.notices.app; print('reportlab' in sys.modules)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()
    base = statistics.median(samples["baseline"])
    result = {"baseline_ms": base * 1000, "reportlab_loaded_by_listing": check == "True"}
    rows.append(["**Baseline**: `import boto3; boto3.client('dynamodb')`", f"{base * 1000:.0f} ms", "1.00", ""])
    for name in FUNCTION_MODULES:
        value = statistics.median(samples[name])
        ratio = value / base
        result[name] = {"ms": value * 1000, "ratio": ratio}
        rows.append([f"`{name}` module import", f"{value * 1000:.0f} ms", f"{ratio:.2f}", _goal(ratio <= 1.5, "≤ 1.5")])
    rows.append(
        [
            "reportlab imported by the `notices` module (listing path)",
            "yes" if check == "True" else "no",
            "",
            _goal(check != "True", "no"),
        ]
    )
    return result


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
        ["PDF notices per second, one core, incl. S3 put to moto", f"{rate:.0f} /s", _goal(rate >= 300, "≥ 300/s")]
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


def package_size(rows: list[list[str]]) -> dict[str, Any]:
    build = Path(tempfile.mkdtemp(prefix="oph-build-"))
    try:
        for name in ("template.yaml", "functions", "layers"):
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, build / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, build / name)
        sam = str(Path(PY).parent / "sam")
        done = subprocess.run(
            [sam, "build"],
            cwd=build,
            capture_output=True,
            text=True,
            env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "eu-west-3"},
        )
        if done.returncode != 0:
            rows.append(["sam build", "failed", "", done.stderr.strip().splitlines()[-1:]])
            return {}
        artifacts = build / ".aws-sam" / "build"
        sizes = {}
        for path in sorted(artifacts.iterdir()):
            if path.is_dir():
                sizes[path.name] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        total = sum(sizes.values())
        for name, size in sizes.items():
            rows.append([f"`{name}`", f"{size / 1e6:.2f} MB", ""])
        # Top-level packages only (aws_xray_sdk has an "ext/botocore" patch module, not botocore).
        boto_shipped = sorted(
            {p.name for p in artifacts.glob("*/python/*") if p.name in ("boto3", "botocore")}
            | {p.name for p in artifacts.glob("*/*") if p.is_dir() and p.name in ("boto3", "botocore")}
        )
        rows.append(["whole deployment, unzipped", f"{total / 1e6:.1f} MB", _goal(total <= 25e6, "≤ 25 MB")])
        rows.append(
            [
                "boto3/botocore shipped",
                ", ".join(boto_shipped) or "no (runtime's own)",
                _goal(not boto_shipped, "not shipped"),
            ]
        )
        return {"total_mb": total / 1e6, "sizes": sizes}
    finally:
        shutil.rmtree(build, ignore_errors=True)


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


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    started = time.perf_counter()
    sections = []
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

    rows: list[list[str]] = []
    cold_init(rows)
    sections.append(
        ("1. Cold init (fresh process importing the function module)", ["measure", "median", "ratio", "goal"], rows)
    )
    rows = []
    warm_latency(rows)
    sections.append(
        ("2. Warm latency (in-process handlers on in-process moto)", ["route", "p50", "p99", "p50 ratio", "goal"], rows)
    )
    rows = []
    login(rows)
    sections.append(("3. Login", ["measure", "median", "ratio", "goal"], rows))
    rows = []
    pdf_rate(rows)
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
    package_size(rows)
    sections.append(("5a. Package size after `sam build`", ["artifact", "size", "goal"], rows))
    rows = []
    peak_memory(rows)
    sections.append(("5b. Peak memory on the heaviest route", ["function", "peak RSS", "goal"], rows))

    text = [
        "# Performance",
        "",
        f"Measured by `make bench` on {date} — {machine}. Each figure is a median over several runs;",
        "each ratio is measured in the same run as its baseline. Benchmarks report; they never fail the build.",
        "",
    ]
    for title, header, section_rows in sections:
        text += [f"## {title}", "", _table(header, section_rows), ""]
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
