"""Real threads against PostgreSQL: calls started together, each on its own connection."""

import threading
from collections import Counter

from django.db import connection

WORKERS = 12  # threads at once: fits the pool (20) with the test's own connection to spare
JOIN_TIMEOUT = 60


def run_concurrently(calls, *, workers=WORKERS):
    """Run the callables on `workers` threads started together; return their results in order
    (an exception raised by a call is returned in its place)."""
    results = [None] * len(calls)
    workers = min(workers, len(calls))
    barrier = threading.Barrier(workers)

    def work(indexes):
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            for index in indexes:
                try:
                    results[index] = calls[index]()
                except Exception as exc:  # reported by the test
                    results[index] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(range(n, len(calls), workers),), daemon=True)
        for n in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results


def status_codes(results):
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    return Counter(response.status_code for response in results)
