"""Racing two (or more) real database writers in tests: threads with their own connections,
released at the same instant by a barrier (used by the meeting and agreement race tests).

On SQLite the test database is in-memory with a shared cache, where a second writer is told
"database table is locked" at once instead of waiting as the production file database (WAL,
IMMEDIATE transactions, busy timeout) does; `together` retries that one error — the busy wait
production does itself — and nothing else. On PostgreSQL nothing is retried.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connection, connections


def shared_cache_lock(exc: Exception) -> bool:
    return (
        connection.vendor == "sqlite"
        and isinstance(exc, OperationalError)
        and "locked" in str(exc)
        and connection.is_in_memory_db()
    )


def together(*calls: Callable[[], Any], stats: dict[str, int], raising: bool = True) -> list:
    """Run the calls in threads released at the same instant; their results, in order. Any
    exception in a thread fails the test (with raising=False it is returned as the result).
    `stats` counts the runs and the shared-cache retries, for the test to print."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            while True:
                try:
                    results[i] = call()
                    return
                except OperationalError as exc:
                    if not shared_cache_lock(exc):
                        raise
                    stats["retries"] = stats.get("retries", 0) + 1
                    time.sleep(random.uniform(0.0005, 0.003))
        except BaseException as exc:  # reported below
            errors[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    stats["runs"] = stats.get("runs", 0) + 1
    if not raising:
        return [e if e is not None else r for r, e in zip(results, errors, strict=True)]
    assert errors == [None] * len(calls), errors
    return results
