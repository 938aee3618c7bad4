"""Fixtures and factories shared by the handler and end-to-end tiers."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

DEMO = {"tenant_number": "123456", "last_name": "DUPOND", "first_name": "Jean", "birth_date": "1975-09-10"}
STRONG_PASSWORD = "Correct-Cheval-Pile-42"


@dataclass
class Reply:
    """One HTTP answer, whatever tier produced it."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class InProcessClient:
    """Calls the real handlers through :class:`devserver.runtime.Runtime` (handler tier)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

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
        ip: str = "203.0.113.7",
    ) -> Reply:
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            all_headers.setdefault("Content-Type", "application/json")
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        raw = body.encode() if isinstance(body, str) else (body or b"")
        result = self.runtime.http(method, path, query=query, headers=list(all_headers.items()), body=raw, source_ip=ip)
        headers_out = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers_out[name] = ", ".join(values)
        payload = result.get("body") or ""
        if result.get("isBase64Encoded"):
            import base64

            data = base64.b64decode(payload)
        else:
            data = payload.encode()
        return Reply(int(result["statusCode"]), headers_out, data)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, json_body=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, json_body=json, **kw)

    def delete(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return self.request("DELETE", path, json_body=json, **kw)


@pytest.fixture
def aws() -> Iterator[Any]:
    """moto's in-process AWS with the template's resources; yields the LocalAws description."""
    from moto import mock_aws

    from oph.platform import clock
    from oph.platform.settings import reset_caches

    with mock_aws():
        reset_caches()
        clock.set_offset(0)
        from devserver.aws_local import create_resources

        local = create_resources("https://app.test")
        from oph.platform import aws as oph_aws
        from tests import dynamodb_limits

        dynamodb_limits.install(oph_aws.session())  # moto does not enforce DynamoDB's key and item sizes
        yield local
        clock.set_offset(0)
        reset_caches()


@pytest.fixture
def runtime(aws: Any) -> Any:
    from devserver.runtime import Runtime

    return Runtime(aws.shared_environment())


@pytest.fixture
def client(runtime: Any) -> InProcessClient:
    return InProcessClient(runtime)


@pytest.fixture
def demo_tenant(runtime: Any) -> dict[str, str]:
    """The contract's demo tenant, seeded as the local server seeds it."""
    from devserver.seed import seed

    seed()
    return dict(DEMO)


@pytest.fixture
def outbox(aws: Any) -> Any:
    """Callable returning the e-mails sent so far (same shape as GET /_dev/outbox)."""
    from devserver import outbox as box

    box.clear()
    return box.messages


@pytest.fixture
def clock_offset() -> Iterator[Any]:
    """Callable moving "now" by N seconds (absolute offset), reset after the test."""
    from oph.platform import clock

    yield clock.set_offset
    clock.set_offset(0)
