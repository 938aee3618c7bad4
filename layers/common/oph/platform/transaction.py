"""One unit of work: conditional writes that happen together or not at all.

Stores build :class:`Write` items (a DynamoDB ``TransactWriteItems`` entry for the real
stores, a check and an apply for their in-memory twins); a use case collects them in a
:class:`Transaction` and commits once. Each write *names* the domain error its failed
condition means (``fails_with``): the committer maps a cancelled transaction to that error
itself, so no use case ever decodes cancellation reasons, by position or otherwise.

A failed condition with no declared meaning, or a concurrent transaction on the same items,
raises :class:`RaceLost`: the caller lost a race, reads again and decides again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ErrorSpec = type[Exception] | Exception | None


class RaceLost(Exception):
    """Someone else wrote first: read again, decide again (or give up with a 503)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = tuple(names)
        super().__init__(", ".join(self.names) or "transaction conflict")


Committer = Callable[["list[Write]"], None]


@dataclass(frozen=True)
class Write:
    """One item of a transaction and the domain error its failed condition means."""

    name: str
    committer: Committer
    fails_with: ErrorSpec = None
    request: Mapping[str, Any] | None = None  # real stores: one TransactWriteItems entry
    check: Callable[[], bool] | None = None  # twins: is the condition true now?
    apply: Callable[[], None] | None = None  # twins: the change

    def failure(self) -> Exception:
        if self.fails_with is None:
            return RaceLost([self.name])
        if isinstance(self.fails_with, Exception):
            return self.fails_with
        return self.fails_with()


def first_failure(writes: list[Write], failed: Iterable[int]) -> Exception:
    """The error of the first failed write that declares one, in the transaction's order."""
    failed_set = set(failed)
    declared = [w for i, w in enumerate(writes) if i in failed_set and w.fails_with is not None]
    if declared:
        return declared[0].failure()
    return RaceLost(w.name for i, w in enumerate(writes) if i in failed_set)


class Transaction:
    def __init__(self, *writes: Write | Iterable[Write]) -> None:
        self.writes: list[Write] = []
        self.add(*writes)

    def add(self, *writes: Write | Iterable[Write]) -> Transaction:
        for write in writes:
            if isinstance(write, Write):
                self.writes.append(write)
            else:
                self.writes.extend(write)
        return self

    def commit(self) -> None:
        if not self.writes:
            return
        committers = {id(w.committer) for w in self.writes}
        if len(committers) != 1:
            raise ValueError("a transaction's writes must all belong to one kind of store")
        self.writes[0].committer(self.writes)


# -- the in-memory twins' committer ----------------------------------------------------------


def commit_in_memory(writes: list[Write]) -> None:
    """All conditions checked first, then every change applied: atomic in one thread."""
    failed = [i for i, w in enumerate(writes) if w.check is not None and not w.check()]
    if failed:
        raise first_failure(writes, failed)
    for write in writes:
        if write.apply is not None:
            write.apply()


def memory_write(
    name: str,
    *,
    check: Callable[[], bool] | None = None,
    apply: Callable[[], None] | None = None,
    fails_with: ErrorSpec = None,
) -> Write:
    return Write(name=name, committer=commit_in_memory, fails_with=fails_with, check=check, apply=apply)
