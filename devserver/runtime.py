"""Invokes the template's functions in-process, as Lambda would, with their events.

Used by the handler tests (with moto's in-process mock) and by the worker processes of the
local server (each worker plays one warm Lambda container).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from devserver import events
from devserver import template as tpl

for _path in (str(tpl.ROOT / "layers" / "common"), str(tpl.ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

LOCAL_ENV = {
    "AWS_DEFAULT_REGION": tpl.REGION,
    "AWS_REGION": tpl.REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_SERVICE_NAME": "local",
    "POWERTOOLS_METRICS_NAMESPACE": "MonEspaceLocataire",
    "POWERTOOLS_DEV": "false",
}


class Runtime:
    def __init__(self, env: dict[str, str]) -> None:
        import warnings

        # Powertools warns on every request that emits no business metric: noise locally.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        os.environ.update(LOCAL_ENV)
        os.environ.update(env)
        from oph.platform.settings import reset_caches

        reset_caches()
        self.functions = {f.logical_id: f for f in tpl.functions()}
        self._handlers: dict[str, Any] = {}

    def handler(self, logical_id: str) -> Any:
        if logical_id not in self._handlers:
            fn = self.functions[logical_id]
            module = importlib.import_module(fn.module)
            self._handlers[logical_id] = getattr(module, fn.attribute)
        return self._handlers[logical_id]

    def match(self, method: str, path: str) -> tuple[tpl.Function, tpl.Route, dict[str, str]] | None:
        for fn in self.functions.values():
            for route in fn.routes:
                if route.method == method.upper():
                    found = route.regex.match(path)
                    if found:
                        return fn, route, found.groupdict()
        return None

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        fn = self.functions[logical_id]
        context = events.LambdaContext(fn.logical_id, fn.memory, fn.timeout)
        return self.handler(logical_id)(event, context)

    def http(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """One API Gateway request; an unknown route gets API Gateway's own 403-less 404."""
        found = self.match(method, path)
        if found is None:
            return {
                "statusCode": 404,
                "headers": {"Content-Type": "application/problem+json"},
                "body": '{"type":"about:blank","status":404,"code":"not_found","title":"Ressource introuvable.","request_id":""}',
            }
        fn, route, params = found
        event = events.api_event(
            method,
            path,
            resource=route.path,
            path_parameters=params,
            query=query,
            headers=headers,
            body=body,
            source_ip=source_ip,
        )
        return self.invoke(fn.logical_id, event)
