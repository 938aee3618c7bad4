"""Run by scripts/bench.py in a fresh process: notices rendered AND stored in S3 per second
on one core, and the peak memory of a batch. Prints one JSON line.

Measures ``oph.documents.delivery.deliver_batch`` on messages of 100 notices, as the notice
worker runs them: the holders' accounts read in one batch, then per notice the render, the S3
put and the one write that marks it rendered and takes its claims (the holders have no
account here, so no e-mail or push is sent). The embedded AWS is a moto server in its own
process on the other core: in AWS, S3 and DynamoDB do not run on the Lambda's core.

``per_second`` is wall-clock time, so it is also bound by how fast moto answers on its core
(``moto_cpu_ms_per_notice``: above ~1000/rate, moto is the limit; werkzeug also closes every
connection, so each call opens a new one, which AWS's keep-alive does not);
``per_cpu_second`` is the worker's own core: notices per CPU-second of this process.
``BENCH_PROFILE=1``: the same loop under cProfile, in one thread, its top functions on stderr.
"""

import json
import os
import socket
import subprocess
import sys
import time


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process so far, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mb() -> float:
    """VmHWM: this process's own peak RSS (ru_maxrss would include the parent's, across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
os.environ.update({"POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"})
cores = sorted(os.sched_getaffinity(0))
moto_port = int(os.environ.get("BENCH_MOTO_PORT", "5099"))
moto = subprocess.Popen(
    [
        sys.executable,
        "-c",
        f"import os; os.sched_setaffinity(0, {{{cores[-1]}}}); from moto.server import main; main(['-p', '{moto_port}'])",
    ],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{moto_port}"
os.sched_setaffinity(0, {cores[0]})  # one core for the worker
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", moto_port), timeout=0.2).close()
        break
    except OSError:
        time.sleep(0.1)

try:
    from devserver.aws_local import create_resources
    from oph.documents.delivery import deliver_batch
    from oph.documents.model import NOTICE, Document, tenant_prefix
    from oph.documents.store import DocumentStore
    from oph.platform.settings import reset_caches

    reset_caches()
    create_resources("https://app.bench")
    lines = [
        {"label": "Loyer", "category": "rent", "amount_cents": 17503},
        {"label": "Provisions charges générales LG", "category": "charges", "amount_cents": 776},
        {"label": "Provisions charges générales SH", "category": "charges", "amount_cents": 1472},
        {"label": "Provisions chauffage", "category": "charges", "amount_cents": 1955},
        {"label": "Divers appareils chauffage", "category": "charges", "amount_cents": 294},
    ]
    tenancy = {
        "contract_number": "0123456-01",
        "third_party_number": "T0098765",
        "address_line1": "10 Rue Hémet",
        "postal_code": "93300",
        "city": "AUBERVILLIERS",
        "balance_cents": 61068,
        "balance_date": "2019-05-23",
    }
    entries = []
    repo = DocumentStore()
    for i in range(count):
        number = str(200000 + i)
        document = Document(
            doc_id=f"notice-{number}-2019-05",
            tenant_number=number,
            type=NOTICE,
            title="Avis d'échéance — mai 2019",
            issued_on="2019-05-24",
            s3_key=f"{tenant_prefix(number)}notices/avis-echeance-2019-05.pdf",
            filename="avis-echeance-2019-05.pdf",
            period="2019-05",
            due_date="2019-06-10",
            amount_due_cents=22000,
            extra={"lines": lines, "balance_cents": 61068, "balance_date": "2019-05-23"},
        )
        repo.put(document)
        entries.append(
            {
                "tenant_number": number,
                "documents": [document.__dict__],
                "holders": [{"holder_id": f"h{number}", "last_name": "DUPOND", "first_name": "Jean"}],
                "tenancy": {**tenancy, "tenant_number": number},
            }
        )
    # Messages as the import sends them (up to 100 notices each), processed as the worker does.
    messages = [{"tenants": entries[i : i + 100]} for i in range(0, len(entries), 100)]
    deliver_batch({"tenants": entries[:2]})  # imports and warm-up outside the timing
    before = _peak_mb() * 1024
    cpu_start, start, moto_start = time.process_time(), time.perf_counter(), _cpu_seconds(moto.pid)
    if os.environ.get("BENCH_PROFILE"):  # the same loop under cProfile (slower): where the time goes
        import concurrent.futures
        import cProfile
        import pstats

        class InThisThread(concurrent.futures.Executor):
            """cProfile sees one thread only: the tenants run here, one after the other."""

            def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
                future: concurrent.futures.Future = concurrent.futures.Future()
                try:
                    future.set_result(fn(*args, **kwargs))
                except Exception as exc:
                    future.set_exception(exc)
                return future

        concurrent.futures.ThreadPoolExecutor = lambda *_, **__: InThisThread()  # type: ignore[assignment,misc]
        cProfile.runctx("for m in messages: deliver_batch(m)", globals(), locals(), "/tmp/notices.prof")
        pstats.Stats("/tmp/notices.prof", stream=sys.stderr).sort_stats("tottime").print_stats(15)
        pstats.Stats("/tmp/notices.prof", stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    else:
        for message in messages:
            deliver_batch(message)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    moto_cpu = _cpu_seconds(moto.pid) - moto_start
    peak_mb = _peak_mb()
    print(
        json.dumps(
            {
                "count": count,
                "per_second": count / elapsed,
                "per_cpu_second": count / cpu,
                "moto_cpu_ms_per_notice": moto_cpu * 1000 / count,  # the other core's share
                "peak_mb": peak_mb,
                "growth_mb": peak_mb - before / 1024,
            }
        )
    )
finally:
    moto.terminate()
