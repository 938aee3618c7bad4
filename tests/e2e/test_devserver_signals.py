"""`make dev` stopped with SIGTERM (a supervisor, `kill`) stops its worker processes too (issue 18)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, wait_until_ready

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found |= {child} | _descendants(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_stops_the_server_and_its_workers(tmp_path):
    env = {**os.environ, "DEV_WORKERS": "2"}
    env.pop("AWS_ENDPOINT_URL", None)
    log_path = tmp_path / "devserver.log"  # the banner gives the port it bound (--port 0)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "devserver", "--port", "0", "--moto-port", "0"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(process, log_path)
        workers = _descendants(process.pid)
        assert len(workers) >= 2
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)], "worker processes outlived the server"
    finally:
        if process.poll() is None:
            process.kill()
