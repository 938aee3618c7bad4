"""End-to-end tier: the local server (``python -m devserver``) started once per test session
on free ports, and talked to over real HTTP; pages driven in the real headless Chromium.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests

from tests.conftest import ROOT
from tests.fixtures import Reply

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": "0", "DEV_WORKERS": "4"}
    env.pop("AWS_ENDPOINT_URL", None)
    log = open(ROOT / ".pytest-devserver.log", "w")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [sys.executable, "-m", "devserver", "--port", str(port), "--moto-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local server exited; see {log.name}")
        try:
            if requests.get(base + "/_dev/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("local server not healthy within 90 s")
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
