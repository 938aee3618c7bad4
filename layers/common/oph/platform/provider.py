"""How a use case gets its stores and adapters, and how a test swaps in a twin.

``Provider(factory)`` builds the real object once per container (lazily: cold start, and
tests create their moto mocks first); ``override(twin)`` replaces it for a ``with`` block
(the unit tier's in-memory stores). ``Provider.lazy("module", "Name")`` names its factory
instead of importing it, so the platform can wire its own AWS adapters without a static
import of the AWS package. Every provider forgets its object on ``reset_caches()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, cast

from oph.platform.settings import on_reset

T = TypeVar("T")


class Provider(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._instance: T | None = None
        self._override: T | None = None
        on_reset(self.forget)

    @classmethod
    def lazy(cls, module: str, name: str) -> Provider[Any]:
        return cls(lambda: getattr(importlib.import_module(module), name)())

    def __call__(self) -> T:
        if self._override is not None:
            return self._override
        if self._instance is None:
            self._instance = self._factory()
        return self._instance

    def set(self, instance: T | None) -> None:
        """Replace the object until further notice (``None`` restores the real one)."""
        self._override = instance

    @contextmanager
    def override(self, instance: T) -> Iterator[T]:
        previous = self._override
        self._override = instance
        try:
            yield instance
        finally:
            self._override = previous

    def forget(self) -> None:
        self._instance = None
        self._override = None

    def current(self) -> T | None:
        return cast("T | None", self._override or self._instance)
