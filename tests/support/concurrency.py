"""Real threads against PostgreSQL: calls started together, each on its own connection."""

import contextlib
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


HELD_JOIN_TIMEOUT = 30  # a request held at a meeting point: how long the test waits for it
HOLD = 1.0  # seconds a request held at a meeting point waits for the other before going on


class Request(threading.Thread):
    """`call()` on its own thread and database connection; `outcome` is what it returned or
    raised."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call = call
        self.outcome = None
        self.start()

    def run(self):
        try:
            self.outcome = self.call()
        except Exception as exc:  # what the client would have seen as a 500
            self.outcome = exc
        finally:
            connection.close()

    def answer(self):
        self.join(timeout=HELD_JOIN_TIMEOUT)
        assert not self.is_alive(), "a request hung"
        assert not isinstance(self.outcome, Exception), repr(self.outcome)
        return self.outcome


def meet(monkeypatch, *targets, before=False):
    """Wrap each (owner, name) so that the two requests calling them wait for each other there
    (after the call, or before it), each holding what it locked so far. A request that waits
    HOLD seconds in vain (the other is queued on a lock it holds) goes on alone."""
    barrier = threading.Barrier(2, timeout=HOLD)

    def wrap(original):
        def wrapper(*args, **kwargs):
            if before:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()
            result = original(*args, **kwargs)
            if not before:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()
            return result

        return wrapper

    for owner, name in targets:
        monkeypatch.setattr(owner, name, wrap(getattr(owner, name)))


class Pause:
    """Hold the first call of `owner.name` for which `when(*args)` holds (after the call, or
    before it) until `release()`; `reached` is set once it is held."""

    def __init__(self, monkeypatch, owner, name, *, before=False, when=lambda *args: True):
        self.reached, self.released = threading.Event(), threading.Event()
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            hold = when(*args) and not self.reached.is_set()
            if hold and before:
                self.hold()
            result = original(*args, **kwargs)
            if hold and not before:
                self.hold()
            return result

        monkeypatch.setattr(owner, name, wrapper)

    def hold(self):
        self.reached.set()
        self.released.wait(timeout=HELD_JOIN_TIMEOUT)

    def wait_until_reached(self):
        assert self.reached.wait(timeout=HELD_JOIN_TIMEOUT), "the request never got there"

    def release(self):
        self.released.set()
