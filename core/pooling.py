"""PostgreSQL connection pooling that fails at once while the database is down and recovers at
once after it is back (settings' pool, core.postgresql).

A circuit breaker per process: once a connection attempt found the database unreachable, every
request that needs a connection fails at once (a JSON 503: `DatabaseDown` is an
OperationalError) for DATABASE_BREAKER_SECONDS (2), instead of each waiting
DATABASE_POOL_TIMEOUT for a connection that cannot come (8 clients on 4 sync workers waited
6.2 s each, and /api/health/ behind them). Then one request tries again, on a fresh pool
(which connects at once, with no backoff left from the outage); meanwhile the others still
fail at once. A connection that is made closes the breaker.
"""

import threading
import time

import psycopg
from django.conf import settings
from psycopg_pool import ConnectionPool


class DatabaseDown(psycopg.OperationalError):
    """The database was found unreachable a moment ago: not tried again yet."""


def is_unreachable(exc: BaseException) -> bool:
    """A failure to reach the server at all (refused, timed out, closed, starting up or
    shutting down), not one it answered with (a wrong password, too many connections)."""
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(exc, psycopg.OperationalError) and (
        sqlstate is None or sqlstate.startswith("57P")
    )


class CircuitBreaker:
    """Closed: connections are made as usual. Open (after a failure): `admit` refuses at once
    until DATABASE_BREAKER_SECONDS have passed. Then one caller is admitted as the trial (told
    so, to start afresh); others are refused until it succeeds (closed) or fails (open
    again)."""

    CLOSED, TRIAL = "closed", "trial"

    def __init__(self):
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._tripped = False  # since the last success
        self._trial_running = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._tripped and (time.monotonic() < self._open_until or self._trial_running)

    def admit(self) -> str:
        """CLOSED or TRIAL, or DatabaseDown raised at once."""
        if not self._tripped:  # the usual case, without the lock
            return self.CLOSED
        with self._lock:
            if not self._tripped:
                return self.CLOSED
            if time.monotonic() < self._open_until or self._trial_running:
                raise DatabaseDown(
                    "The database was unreachable a moment ago; not trying again yet."
                )
            self._trial_running = True
            return self.TRIAL

    def trip(self) -> None:
        with self._lock:
            self._tripped, self._trial_running = True, False
            self._open_until = time.monotonic() + settings.DATABASE_BREAKER_SECONDS

    def succeeded(self) -> None:
        if self._tripped or self._trial_running:
            with self._lock:
                self._tripped = self._trial_running = False

    def ended_trial(self) -> None:
        """The trial ended without reaching the database nor finding it down (e.g. a pool
        that was closed under it): let the next caller try."""
        with self._lock:
            self._trial_running = False


BREAKER = CircuitBreaker()


def check_pooled_connection(conn) -> None:
    """The pool's check before it hands out a connection. One found dead means the server
    went away, and every idle connection died with it: check them all at once, so the dead ones
    are replaced together instead of one per backoff step of the pool's retry loop (three dead
    connections took a request past its 3 s wait, into a 503, right after PostgreSQL was back)."""
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        pool = getattr(conn, "_pool", None)
        if pool is not None:
            pool.check()
        raise


class BreakingConnectionPool(ConnectionPool):
    """psycopg's pool, telling the breaker what its connection attempts find. A failed one
    (in the pool's own worker threads) opens the breaker and fails every request waiting for a
    connection at once, rather than at the end of its timeout."""

    def _connect(self, timeout: float | None = None):
        try:
            conn = super()._connect(timeout)
        except Exception as exc:
            if is_unreachable(exc):
                BREAKER.trip()
                self._fail_waiting(exc)
            raise
        BREAKER.succeeded()
        return conn

    def _fail_waiting(self, exc: Exception) -> None:
        with self._lock:
            waiting = list(self._waiting)
            self._waiting.clear()
        for client in waiting:
            client.fail(DatabaseDown(f"The database is unreachable: {exc}"))
