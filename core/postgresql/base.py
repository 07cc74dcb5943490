"""Django's PostgreSQL backend, whose pool recovers at once after a server restart."""

from django.db.backends.postgresql import base

from core.pooling import check_pooled_connection


class DatabaseWrapper(base.DatabaseWrapper):
    """Hands out pooled connections checked by `check_pooled_connection` (Django builds the pool
    with psycopg_pool's plain check when CONN_HEALTH_CHECKS is on, and takes no other)."""

    @property
    def pool(self):
        pool = super().pool
        if pool is not None:
            pool._check = check_pooled_connection  # psycopg_pool keeps its check here (3.3)
        return pool
