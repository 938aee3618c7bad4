"""The local server behind ``make dev``: the whole API on http://127.0.0.1:3000, no Docker.

- an embedded moto server (DynamoDB, S3, SES, Secrets Manager, SQS) answering one request at a
  time, so each DynamoDB call is atomic as it is in AWS;
- the template's resources created in it from ``template.yaml``;
- a pool of worker processes, each a warm "Lambda container" that invokes the handlers
  in-process with the API Gateway / S3 / SQS / SNS events AWS would send; concurrent requests
  really run concurrently, as concurrent Lambda invocations do;
- the ``/_dev`` endpoints of the contract (section 7) and the demo tenant seed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3

from devserver import dev_endpoints, events, outbox, push_outbox
from devserver import template as tpl
from devserver.aws_local import LocalAws, create_resources
from devserver.dev_endpoints import problem

MAX_DEV_BODY = 50 * 1024 * 1024

# ----------------------------------------------------------------- worker side
_runtime: Any = None
_generation = -1


def _worker_init(env: dict[str, str]) -> None:
    global _runtime
    from devserver.runtime import Runtime

    _runtime = Runtime(env)


def _prepare(offset: float, generation: int) -> None:
    global _generation
    from oph.platform import clock
    from oph.platform.settings import reset_caches

    clock.set_offset(offset)
    if generation != _generation:
        reset_caches()
        _generation = generation


def worker_invoke(logical_id: str, event: dict[str, Any], offset: float, generation: int) -> Any:
    _prepare(offset, generation)
    return _runtime.invoke(logical_id, event)


def worker_call(target: str, kwargs: dict[str, Any], offset: float, generation: int) -> Any:
    """Run ``module:function`` inside a worker (seeding, admin actions) with its environment."""
    import importlib

    _prepare(offset, generation)
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(**kwargs)


def worker_warm() -> bool:
    for logical_id in _runtime.functions:
        _runtime.handler(logical_id)
    return True


# ----------------------------------------------------------------- server side
class DevServer:
    def __init__(self, host: str, port: int, workers: int, moto_port: int, moto_host: str | None = None) -> None:
        self.host, self.port, self.workers = host, port, workers
        self.public_base_url = f"http://{host}:{port}"
        self.moto_port = moto_port
        # Where moto listens: the API's host unless asked otherwise (MOTO_HOST=0.0.0.0 lets the
        # containers of `sam local start-api` reach it through host.docker.internal).
        self.moto_host = moto_host or host
        self.ready = False
        self.offset = 0.0
        self.generation = 0
        self.functions = {f.logical_id: f for f in tpl.functions()}
        self.local: LocalAws | None = None
        self.pool: ProcessPoolExecutor | None = None
        self.lock = threading.Lock()
        # Set by moto whenever a message is queued (see start_moto): the queues are then pumped
        # before the answer goes out, as AWS's event source mappings would deliver it.
        self.queued = threading.Event()
        self.pump_lock = threading.Lock()

    # -- embedded AWS
    def start_moto(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        from moto.sqs.models import Queue

        original_add = Queue.add_message
        queued = self.queued

        def add_message(queue: Any, message: Any) -> None:
            original_add(queue, message)
            queued.set()

        Queue.add_message = add_message  # type: ignore[method-assign,assignment]

        app = DomainDispatcherApplication(create_backend_app)
        self.moto = make_server(self.moto_host, self.moto_port, app, threaded=False, request_handler=QuietHandler)
        self.moto_port = self.moto.server_address[1]
        threading.Thread(target=self.moto.serve_forever, daemon=True).start()
        reach = "127.0.0.1" if self.moto_host in ("0.0.0.0", "::", "") else self.moto_host  # noqa: S104
        self.moto_url = f"http://{reach}:{self.moto_port}"
        from devserver.runtime import LOCAL_ENV

        os.environ.update(LOCAL_ENV)
        os.environ["AWS_ENDPOINT_URL"] = self.moto_url

    def provision(self) -> None:
        self.local = create_resources(self.public_base_url)
        env = {**self.local.shared_environment(), "AWS_ENDPOINT_URL": self.moto_url}
        env.update({k: v for k, v in os.environ.items() if k in ("BCRYPT_COST", "STAGE_OVERRIDE")})
        self.env = env

    def start_workers(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_worker_init, initargs=(self.env,)
        )
        for future in [self.pool.submit(worker_warm) for _ in range(self.workers)]:
            future.result()

    def seed(self) -> None:
        self.call("devserver.seed:seed", {})
        self.pump_queues()

    def reset(self) -> None:
        with self.lock:
            self.ready = False
            import urllib.request

            urllib.request.urlopen(urllib.request.Request(f"{self.moto_url}/moto-api/reset", method="POST")).read()
            outbox.clear()
            push_outbox.clear()
            self.offset = 0.0
            self.provision()
            self.generation += 1
            self.seed()
            self.ready = True

    # -- invocations
    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        assert self.pool is not None
        return self.pool.submit(worker_invoke, logical_id, event, self.offset, self.generation).result()

    def call(self, target: str, kwargs: dict[str, Any]) -> Any:
        assert self.pool is not None
        return self.pool.submit(worker_call, target, kwargs, self.offset, self.generation).result()

    def pump_if_queued(self) -> None:
        """Deliver what the last invocations queued (push notifications, e-mails…), if any."""
        if self.queued.is_set() and self.ready:
            self.pump_queues()

    def pump_queues(self) -> None:
        """Deliver queued SQS messages to their functions (batches in parallel) until empty."""
        with self.pump_lock:
            self.queued.clear()
            self._pump_queues()

    def _pump_queues(self) -> None:
        assert self.local is not None and self.pool is not None
        sqs = boto3.client("sqs", region_name=tpl.REGION)
        for fn in self.functions.values():
            for queue_id in fn.sqs_queues:
                url = self.local.queue_urls[queue_id]
                arn = f"arn:aws:sqs:{tpl.REGION}:{tpl.ACCOUNT_ID}:{queue_id}"
                while True:
                    batches = []
                    for _ in range(self.workers):
                        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1).get(
                            "Messages", []
                        )
                        if got:
                            batches.append(got)
                    if not batches:
                        break
                    futures = [
                        (
                            batch,
                            self.pool.submit(
                                worker_invoke, fn.logical_id, events.sqs_event(arn, batch), self.offset, self.generation
                            ),
                        )
                        for batch in batches
                    ]
                    for batch, future in futures:
                        result = future.result() or {}
                        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                        for message in batch:
                            if message["MessageId"] not in failed:
                                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                        if failed:  # as AWS would after the visibility timeout; the DLQ catches repeats
                            time.sleep(1.1)

    def import_file(self, kind: str, name: str, data: bytes) -> Any:
        assert self.local is not None
        key = f"imports/{kind}/{name}"
        boto3.client("s3", region_name=tpl.REGION).put_object(Bucket=self.local.bucket, Key=key, Body=data)
        result: Any = None
        for fn in self.functions.values():
            if any(key.startswith(prefix) for prefix in fn.s3_prefixes):
                result = self.invoke(fn.logical_id, events.s3_event(self.local.bucket, key, len(data)))
        self.pump_queues()
        reports = (result or {}).get("reports") if isinstance(result, dict) else None
        return reports[0] if reports else result

    def run_job(self, job: str, day: str | None) -> list[str]:
        """Invoke the function the scheduler invokes for ``job``, with the schedule's own input
        (plus ``date`` when a day is given to an export); the keys the run wrote."""
        for fn in self.functions.values():
            for schedule in fn.schedules:
                event = json.loads(str(schedule.get("Input") or "{}"))
                if event.get("job") != job:
                    continue
                if day is not None and job != "expire_payments":
                    event["date"] = day
                result = self.invoke(fn.logical_id, event) or {}
                return [str(key) for key in result.get("written") or []]
        raise LookupError(f"no schedule runs {job}")

    def read_file(self, key: str) -> tuple[bytes, str] | None:
        """The local bucket's object at ``key`` and its content type, or None."""
        assert self.local is not None
        s3 = boto3.client("s3", region_name=tpl.REGION)
        try:
            found = s3.get_object(Bucket=self.local.bucket, Key=key)
        except s3.exceptions.NoSuchKey:
            return None
        return found["Body"].read(), str(found.get("ContentType") or "application/octet-stream")

    def ses_event(self, kind: str, address: str) -> Any:
        message = {
            "eventType": kind,
            "mail": {"destination": [address], "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
        }
        if kind == "Bounce":
            message["bounce"] = {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": address}],
            }
        else:
            message["complaint"] = {"complainedRecipients": [{"emailAddress": address}]}
        result = None
        for fn in self.functions.values():
            for topic in fn.sns_topics:
                arn = f"arn:aws:sns:{tpl.REGION}:{tpl.ACCOUNT_ID}:{topic}"
                result = self.invoke(fn.logical_id, events.sns_event(arn, json.dumps(message)))
        return result

    def match(self, method: str, path: str) -> tuple[tpl.Function, tpl.Route, dict[str, str]] | None:
        for fn in self.functions.values():
            for route in fn.routes:
                if route.method == method:
                    found = route.regex.match(path)
                    if found:
                        return fn, route, found.groupdict()
        return None


class Handler(BaseHTTPRequestHandler):
    """One HTTP request of the local server: the API through the worker pool, or ``/_dev``."""

    protocol_version = "HTTP/1.1"
    server_version = "oph-devserver"
    dev: DevServer  # set by make_handler

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if os.environ.get("DEV_ACCESS_LOG"):
            sys.stderr.write(f"{self.command} {self.path.split('?')[0]} -> {args[1] if len(args) > 1 else ''}\n")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: dict[str, str], body: bytes, request_id: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if not any(k.lower() == "x-request-id" for k in headers):
            self.send_header("X-Request-Id", request_id)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        request_id = str(uuid.uuid4())
        parts = urlsplit(self.path)
        path, query = parts.path, parts.query
        body = self._read_body()
        try:
            if path.startswith("/_dev/"):
                params = {k: v[0] for k, v in parse_qs(query).items()}
                request = dev_endpoints.DevRequest(self.command, path, params, body, request_id)
                status, headers, payload = dev_endpoints.dispatch(self.dev, request)
            else:
                status, headers, payload = self._api(path, query, body, request_id)
                self.dev.pump_if_queued()
        except Exception as exc:  # the server must answer, whatever happened behind it
            sys.stderr.write(f"devserver: {type(exc).__name__} on {self.command} {path}\n")
            status, headers, payload = problem(500, "internal_error", "Une erreur interne est survenue.", request_id)
        self._send(status, headers, payload, request_id)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, CONNECT, PROPFIND…) gets what API Gateway answers for a
        # method no route declares: the 404 problem+json of its gateway response, never the
        # standard library's HTML 501 page.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _api(self, path: str, query: str, body: bytes, request_id: str) -> tuple[int, dict[str, str], bytes]:
        server = self.dev
        if not server.ready:
            return problem(
                503, "service_unavailable", "Le serveur local démarre, réessayez dans un instant.", request_id
            )
        found = server.match(self.command, path)
        if found is None:
            return problem(404, "not_found", "Ressource introuvable.", request_id)
        fn, route, params = found
        event = events.api_event(
            self.command,
            path,
            resource=route.path,
            path_parameters=params,
            query=query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        event["requestContext"]["requestId"] = request_id
        result = server.invoke(fn.logical_id, event)
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(str(v) for v in values)
        raw = result.get("body") or ""
        if result.get("isBase64Encoded"):
            import base64

            return int(result.get("statusCode", 200)), headers, base64.b64decode(raw)
        return int(result.get("statusCode", 200)), headers, raw.encode("utf-8")


class DevHTTPServer(ThreadingHTTPServer):
    # Races in the e2e tier open 20+ connections at once: the default backlog of 5 resets some.
    request_queue_size = 128
    daemon_threads = True


def make_handler(server: DevServer) -> type[BaseHTTPRequestHandler]:
    return type("BoundHandler", (Handler,), {"dev": server})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Mon espace locataire - local API server (no Docker)")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "5005")))
    parser.add_argument("--moto-host", default=os.environ.get("MOTO_HOST") or None, help="default: --host")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("DEV_WORKERS", "4")))
    args = parser.parse_args(argv)

    # SIGTERM (a supervisor, `kill`, the e2e fixture) stops the server as Ctrl+C does: the
    # finally below shuts the worker pool down instead of leaving its processes running.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    server = DevServer(args.host, args.port, args.workers, args.moto_port, args.moto_host)
    httpd = DevHTTPServer((args.host, args.port), make_handler(server))
    server.port = httpd.server_address[1]
    server.public_base_url = f"http://{args.host}:{server.port}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        _start(server)
        _serve(server, started)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.shutdown()
        if server.pool:
            server.pool.shutdown(cancel_futures=True)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _start(server: DevServer) -> None:
    server.start_moto()
    server.provision()
    server.start_workers()
    server.seed()
    server.ready = True


def _serve(server: DevServer, started: float) -> None:
    base = server.public_base_url
    print(
        f"""
Mon espace locataire - local API ready in {time.monotonic() - started:.1f} s
  API            {base}/v1/...
  Health         {base}/_dev/health
  OpenAPI        {base}/_dev/openapi.json   Swagger UI {base}/_dev/docs
  Outbox (mails) {base}/_dev/outbox
  Push (devices) {base}/_dev/push
  Embedded AWS   {server.moto_url}  (moto: DynamoDB, S3, SES, Secrets Manager, SQS)
  Demo tenant    numéro d'intitulé 123456, DUPOND Jean, né le 1975-09-10
Ctrl+C to stop.""",
        flush=True,
    )
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
