"""PostgreSQL connection pooling that recovers at once after a restart (settings' pool)."""

from psycopg_pool import ConnectionPool


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
