"""Contract suites: each runs once against the real store (moto) and once against its twin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


def twin_or_real(real: Callable[[], Any], twin: Callable[[], Any]) -> Any:
    """A fixture factory: ``request.param`` is "dynamodb" (needs the ``aws`` fixture) or "memory"."""

    @pytest.fixture(params=["dynamodb", "memory"])
    def store(request: pytest.FixtureRequest) -> Iterator[Any]:
        if request.param == "dynamodb":
            request.getfixturevalue("aws")
            yield real()
        else:
            yield twin()

    return store
