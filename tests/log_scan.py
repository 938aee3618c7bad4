"""Log hygiene over the whole test run: no password, token, JWT, full e-mail address, birth
date or full IBAN may appear in any log line the code writes.

Every test's captured output (where Powertools writes its JSON logs) is scanned after the
test; the local server's log is scanned at the end of the session. Findings fail the run
with the offending test and an excerpt (itself masked).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import STRONG_PASSWORD

# Known secrets and personal data the tests use; a log line containing one is a leak.
KNOWN_SECRETS = {STRONG_PASSWORD, "Correct-Cheval-Pile-42", "1975-09-10", "1980-02-29"}
PATTERNS = {
    "jwt": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "email": re.compile(r"(?<![*A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"),
    "opaque token": re.compile(
        r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Z])(?=[A-Za-z0-9_-]*[a-z])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
    ),
    "birth date": re.compile(r"\b(19[2-9]\d|200\d)-\d\d-\d\d\b"),
}
# A full IBAN, any case: compact ("FR7630006000…", exactly its country's length) or grouped by
# four ("FR76 3000 6000 …"), confirmed by the ISO 13616 check, so that ids and tokens made of
# letters and digits do not count. A masked IBAN ("FR76 **** … ***0 189") is not one.
_IBAN_COMPACT = re.compile(r"(?i)(?<![A-Z0-9])[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![A-Z0-9])")
_IBAN_GROUPED = re.compile(r"(?i)(?<![A-Z0-9])[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?(?![A-Z0-9])")


def full_ibans(text: str) -> list[str]:
    from oph.payments.iban import SEPA_LENGTHS, compact, is_valid_iban

    found = []
    for candidate in [*_IBAN_COMPACT.findall(text), *_IBAN_GROUPED.findall(text)]:
        squeezed = compact(candidate)
        if SEPA_LENGTHS.get(squeezed[:2]) == len(squeezed) and is_valid_iban(squeezed):
            found.append(squeezed)
    return found


# Lines that are not log records of ours (pytest's own output, assertion diffs...).
_LOG_LINE = re.compile(r'^\{"level"')

findings: list[str] = []


def scan_text(text: str, origin: str) -> list[str]:
    found = []
    for line in text.splitlines():
        if not _LOG_LINE.match(line):
            continue
        for name, pattern in PATTERNS.items():
            if pattern.search(line):
                found.append(f"{origin}: {name} in log line: {line[:160]}")
        if full_ibans(line):
            found.append(f"{origin}: a full IBAN in a log line")  # the line itself is not repeated
        for secret in KNOWN_SECRETS:
            if secret in line:
                found.append(f"{origin}: a known test secret in log line")
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    for _name, content in report.sections:
        findings.extend(scan_text(content, item.nodeid))


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports (pytest_testnodedown)
        workeroutput["log_findings"] = list(findings)
        return
    server_log = Path(__file__).resolve().parent.parent / ".pytest-devserver.log"
    if server_log.exists() and server_log.stat().st_mtime > getattr(session, "_started_at", 0):
        findings.extend(scan_text(server_log.read_text(encoding="utf-8", errors="replace"), "local server log"))
    if findings:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"LOG HYGIENE: {len(findings)} leak(s) of personal data or secrets in logs:", red=True)
            for finding in findings[:30]:
                reporter.write_line("  " + finding, red=True)
        session.exitstatus = 1


def pytest_sessionstart(session: Any) -> None:
    import time

    session._started_at = time.time()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Under xdist, each worker's findings and its own local server's log (the e2e tier:
    ``workeroutput["devserver_log"]``) come back to the controller, which reports them."""
    output = getattr(node, "workeroutput", None) or {}
    findings.extend(output.get("log_findings") or [])
    server_log = Path(output["devserver_log"]) if output.get("devserver_log") else None
    if server_log is not None and server_log.exists():
        text = server_log.read_text(encoding="utf-8", errors="replace")
        findings.extend(scan_text(text, f"local server log ({server_log.name})"))
