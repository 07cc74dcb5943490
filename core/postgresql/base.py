"""Django's PostgreSQL backend, failing at once while the database is down (a circuit breaker)
and recovering at once after it is back (core.pooling)."""

import contextlib

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import PoolTimeout

from core.pooling import BREAKER, BreakingConnectionPool, check_pooled_connection, is_unreachable


class DatabaseWrapper(base.DatabaseWrapper):
    """Connections go through the breaker: refused at once while it is open; the trial after
    it starts a fresh pool; an attempt that finds the database unreachable (or a pool that had
    no connection to give within its timeout) opens it."""

    @property
    def pool(self):
        """Django's pool (the same options), as a `BreakingConnectionPool` whose check before
        handing out a connection is `check_pooled_connection`."""
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets it properly later on
            pool = BreakingConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=check_pooled_connection if self.settings_dict["CONN_HEALTH_CHECKS"] else None,
                **({} if pool_options is True else pool_options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]

    @contextlib.contextmanager
    def _through_breaker(self):
        """Refused at once (DatabaseDown) while the breaker is open; the trial after it starts
        a fresh pool (which connects at once, where the old one may be backing off). What the
        attempt finds closes the breaker, or opens it: the database unreachable, or a pool that
        had no connection to give within its timeout."""
        if BREAKER.admit() == BREAKER.TRIAL and self.pool is not None:
            self.close_pool()
        try:
            yield
        except Exception as exc:
            if isinstance(exc, PoolTimeout) or is_unreachable(exc):
                BREAKER.trip()
            else:
                BREAKER.ended_trial()
            raise
        BREAKER.succeeded()

    def get_new_connection(self, conn_params):
        with self._through_breaker():
            return super().get_new_connection(conn_params)

    def check_database(self, *, timeout: float) -> None:
        """`SELECT 1` within `timeout` seconds, through the breaker (at once while it is open),
        on a pooled connection when there is a pool: raises when the database is not there."""
        if self.pool is None:
            with self.cursor() as cursor:
                cursor.execute("SELECT 1")
            return
        with self._through_breaker():
            pool = self.pool
            pool.open()
            with pool.connection(timeout=timeout) as conn:
                conn.execute("SELECT 1")
