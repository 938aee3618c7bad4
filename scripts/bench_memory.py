"""Run by scripts/bench.py in a fresh process: peak memory (max RSS) of one function while
it serves its heaviest route a few times, as a Lambda container would. Prints one JSON line.

The embedded AWS is a moto server in another process and the test data is created by a
setup process, so the measured process holds only the function and its dependencies.
"""

import json
import os
import socket
import subprocess
import sys
import time


def _peak_mb() -> float:
    """VmHWM: this process's own peak RSS (ru_maxrss would include the parent's, across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


NAME = sys.argv[1]
ROUNDS = 5

SETUP = r"""
import json, sys
from devserver.aws_local import create_resources
from oph.platform.settings import reset_caches
reset_caches()
create_resources("https://app.bench")
from tests.factories import make_tenant, make_account, log_in
from oph.documents.model import NOTICE, Document, tenant_prefix
from oph.documents.store import DocumentStore
tenant = make_tenant(tenant_number="424242", balance_cents=0, balance_date="2019-06-15")
account = make_account(tenant, "memoire@exemple.com")
login = log_in(account)
lines = [{"label": "Loyer", "category": "rent", "amount_cents": 17503},
         {"label": "Provisions charges", "category": "charges", "amount_cents": 4497}]
docs = []
for i in range(100):
    number = str(300000 + i)
    if i == 0:
        number = "424242"
    d = Document(doc_id=f"notice-{number}-2019-05", tenant_number=number, type=NOTICE,
        title="Avis d'échéance — mai 2019", issued_on="2019-05-24",
        s3_key=f"{tenant_prefix(number)}notices/avis-echeance-2019-05.pdf", filename="avis-echeance-2019-05.pdf",
        period="2019-05", due_date="2019-06-10", amount_due_cents=22000,
        extra={"lines": lines, "balance_cents": 22000, "balance_date": "2019-05-23"})
    DocumentStore().put(d)
    docs.append({"tenant_number": number, "documents": [d.__dict__],
                 "holders": [{"holder_id": f"h{number}", "last_name": "DUPOND", "first_name": "Jean"}],
                 "tenancy": {"tenant_number": number, "address_line1": "10 Rue Hémet", "postal_code": "93300", "city": "AUBERVILLIERS"}})
print(json.dumps({"token": login.access_token, "email": account.email, "batch": {"tenants": docs}}))
"""


def _start_moto() -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "-c", f"from moto.server import main; main(['-p', '{port}'])"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return process, port


def main() -> None:
    moto, port = _start_moto()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    try:
        done = subprocess.run([sys.executable, "-c", SETUP], capture_output=True, text=True, check=True, env=os.environ)
        data = json.loads(done.stdout.strip().splitlines()[-1])
        from devserver import events

        auth = [("Authorization", f"Bearer {data['token']}"), ("Content-Type", "application/json")]
        password = "Correct-Cheval-Pile-42"
        routes = {
            "register": (
                "functions.register.app",
                "POST /v1/registrations/identity",
                {"tenant_number": "424242", "last_name": "MARTIN", "first_name": "Sophie", "birth_date": "1980-02-29"},
            ),
            "auth": ("functions.auth.app", "POST /v1/auth/login", {"email": data["email"], "password": password}),
            "account": ("functions.account.app", "GET /v1/account/export", None),
            "notices": ("functions.notices.app", "POST /v1/documents/receipts", {"period": "2019-05"}),
            "payments": ("functions.payments.app", "POST /v1/payments", {"amount_cents": 22000}),
        }
        context = events.LambdaContext(NAME, 256, 30)
        if NAME == "notice-worker":
            from oph.documents.delivery import deliver_batch

            route = "SQS message of 100 notices"
            for _ in range(2):
                deliver_batch(data["batch"])
        else:
            module_name, route, body = routes[NAME]
            import importlib

            handler = importlib.import_module(module_name).lambda_handler
            method, path = route.split(" ", 1)
            for round_ in range(ROUNDS):
                headers = list(auth)
                if NAME == "payments":
                    headers.append(("Idempotency-Key", f"00000000-0000-4000-8000-00000000000{round_}"))
                if NAME in ("register", "auth"):
                    headers = [("Content-Type", "application/json")]
                payload = json.dumps(body).encode() if body is not None else b""
                event = events.api_event(method, path, headers=headers, body=payload)
                result = handler(event, context)
                statuses = [*locals().get("statuses", []), result["statusCode"]]
                if result["statusCode"] >= 500:
                    raise RuntimeError(f"{route} answered {result['statusCode']}")
        peak_mb = _peak_mb()
        print(
            json.dumps({"function": NAME, "route": route, "peak_mb": peak_mb, "statuses": locals().get("statuses", [])})
        )
    finally:
        moto.terminate()


main()
