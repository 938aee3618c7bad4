"""The imports' writes, one per item, on a few threads (boto3 clients are thread-safe)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from oph.platform.observability import get_logger

WRITE_THREADS = 8


def in_parallel(fn: Callable[[Any], Any], items: list[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """Run ``fn`` on every item; yields (item, result, error) in the items' order.

    A failed write never stops the others: its error is yielded for the caller to report.
    """
    if not items:
        return

    def guarded(item: Any) -> tuple[Any, Any, BaseException | None]:
        try:
            return item, fn(item), None
        except Exception as exc:
            get_logger().warning("import write failed", extra={"error": type(exc).__name__})
            return item, None, exc

    with ThreadPoolExecutor(max_workers=min(WRITE_THREADS, len(items))) as pool:
        yield from pool.map(guarded, items)
