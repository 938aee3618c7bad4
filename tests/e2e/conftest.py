"""End-to-end tier: the local server (``python -m devserver``) started once per test session
on free ports, and talked to over real HTTP; pages driven in the real headless Chromium.

In parallel (``pytest tests/e2e -n 2 --dist loadfile``) each xdist worker starts its own
server, on its own free port with its own embedded AWS, logging to its own file
(``server_log_path()``): a test only ever sees its worker's server, so a ``/_dev/reset`` or a
moved clock on one worker never touches the tests of another. ``--dist loadfile`` keeps each
file whole on one worker, its tests in order: a file's module-scoped fixtures (registered
tenants, the fuzz statistics) are made once, and a reset (``test_statement_e2e``,
``test_zz_dev_reset``) only ever falls between whole files on its worker, as in a serial run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT
from tests.fixtures import Reply

CHROMIUM = "/usr/bin/chromium"


def server_log_path(worker: str | None = None) -> Path:
    """The log of the local server this process's tests talk to (``worker``: an xdist worker
    id, default this process's): ``.pytest-devserver.log`` in a serial run,
    ``.pytest-devserver-<worker>.log`` for each xdist worker's own server."""
    worker = worker if worker is not None else os.environ.get("PYTEST_XDIST_WORKER")
    return ROOT / (f".pytest-devserver-{worker}.log" if worker else ".pytest-devserver.log")


class HttpClient:
    """Same interface as the in-process client, over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        query: str = "",
        ip: str | None = None,
        allow_redirects: bool = False,
    ) -> Reply:
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            all_headers.setdefault("Content-Type", "application/json")
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        url = self.base + path + (f"?{query}" if query else "")
        response = requests.request(
            method, url, data=body, headers=all_headers, timeout=60, allow_redirects=allow_redirects
        )
        return Reply(response.status_code, dict(response.headers), response.content)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, json_body=json, **kw)

    def delete(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("DELETE", path, json_body=json, **kw)

    # -- the /_dev endpoints
    def outbox(self) -> list[dict[str, Any]]:
        return self.get("/_dev/outbox").json()["messages"]

    def set_clock(self, offset_seconds: float) -> None:
        assert self.post("/_dev/clock", {"offset_seconds": offset_seconds}).status == 200

    def reset(self) -> None:
        assert self.post("/_dev/reset").status == 200


def wait_until_ready(process: subprocess.Popen[bytes], log_path: Path, timeout: float = 90) -> str:
    """The base URL of a local server started with ``--port 0`` (it binds a free port itself,
    so two servers starting at once never pick the same one), read from the banner it prints
    to ``log_path`` once seeded, and answering ``/_dev/health``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local server exited; see {log_path}")
        found = re.search(r"Health\s+(http://\S+)/_dev/health", log_path.read_text(encoding="utf-8", errors="replace"))
        if found:
            try:
                if requests.get(found.group(1) + "/_dev/health", timeout=2).status_code == 200:
                    return found.group(1)
            except requests.RequestException:
                pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"local server not healthy within {timeout:.0f} s")


@pytest.fixture(scope="session")
def server(pytestconfig: pytest.Config) -> Iterator[str]:
    # One server per process (per xdist worker): its own port and moto port (0: the server
    # binds free ones), its own log. Four worker processes each, even two servers on two
    # cores: test_races holds three at once on the sandbox's submits while each submit's
    # notification needs a fourth.
    env = {**os.environ, "PORT": "0", "MOTO_PORT": "0", "DEV_WORKERS": "4"}
    env.pop("AWS_ENDPOINT_URL", None)
    log_path = server_log_path()
    workeroutput = getattr(pytestconfig, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller scans this log at the end
        workeroutput["devserver_log"] = str(log_path)
    log = open(log_path, "w")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "devserver", "--port", "0", "--moto-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = wait_until_ready(process, log_path)
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def api(server: str) -> HttpClient:
    client = HttpClient(server)
    client.set_clock(0)
    return client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is missing: run scripts/system-deps.sh (make test does)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=True, locale="fr-FR")
    tab = context.new_page()
    yield tab
    context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test its own node id: xdist's ``--dist loadfile`` keys tests by node id, and runs
    one of the tests that share one. pytest 9 builds an item's id from its ``originalname``
    and callspec; schemathesis (4.32) names each operation's test ``name[GET /v1/…]`` with
    ``originalname`` set and no callspec, so the 34 fuzz tests all had the id
    ``tests/e2e/test_fuzz.py::test_api_conforms_to_its_spec`` (33 of them silently skipped in
    parallel). Such a test gets the id its name says; an id still shared stops the run."""
    for item in _sharing_an_id(items):
        base, bracket, params = item.name.partition("[")
        if bracket and item.parent is not None:
            item._id = item.parent.id.child(base).with_params(params.removesuffix("]"))  # type: ignore[attr-defined]
    shared = {item.nodeid for item in _sharing_an_id(items)}
    if shared:
        raise pytest.UsageError(f"tests sharing a node id (xdist would run only one of each): {sorted(shared)[:5]}")


def _sharing_an_id(items: list[pytest.Item]) -> list[pytest.Item]:
    counts = Counter(item.nodeid for item in items)
    return [item for item in items if counts[item.nodeid] > 1]
