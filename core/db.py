"""Database helpers shared by the services."""

import hashlib
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def one_at_a_time(name: str):
    """A transaction that runs alone among those with the same `name`, on every server process:
    a PostgreSQL transaction-level advisory lock (SQLite runs one writer at a time anyway)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        yield
