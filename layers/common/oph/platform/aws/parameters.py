"""SSM Parameter Store strings, read once per container.

Used for the stack's public base URL when the template cannot give it to the functions
directly (the API's own URL: see the ``PublicBaseUrl`` parameter in template.yaml).
"""

from __future__ import annotations

from oph.platform import aws
from oph.platform.aws import unavailable_on_failure
from oph.platform.settings import on_reset

_cache: dict[str, str] = {}


@on_reset
def forget() -> None:
    _cache.clear()


def string_parameter(name: str) -> str:
    """The value of the String parameter ``name`` (cached: these values change only with a
    deployment, which starts new containers)."""
    if name not in _cache:
        with unavailable_on_failure(retry_after=5):
            _cache[name] = str(aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    return _cache[name]
