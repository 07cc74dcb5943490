"""Database helpers shared by the services: locking in id order, foreign-key checks, and
sections that run one at a time.

Lock order, everywhere (as Saleor's order actions lock the order first): the document first
(the order a status move, an edit, a receipt or a return is about), then the products (in id
order, with their parents and variations where a catalogue change concerns them), then what
hangs off them (levels, lots, reservations). A numbered document's counter (core.numbering) is
taken when it is numbered: before the products for an order or a return, after them for a
transfer (one counter per kind of document, so the two never wait on each other). A
transaction that locks rows of one table locks them in one `lock_in_id_order` call, so two
lockers never wait on each other crosswise.
"""

import contextlib
import contextvars
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Model, QuerySet

from core.errors import BrokenRule, NotFound

logger = logging.getLogger(__name__)


def lock_in_id_order(queryset: QuerySet, ids: Iterable[int] | None = None) -> dict[int, Model]:
    """SELECT ... FOR NO KEY UPDATE OF the rows (those of `ids`, or all of the queryset), in id
    order, as Saleor's `lock_objects.py` does: concurrent lockers queue in the same order, so
    they never deadlock. Returns the locked rows by id, as they are now.

    `FOR NO KEY UPDATE` rather than `FOR UPDATE`: changing a quantity or a status never changes
    a key, and this lock does not conflict with the `FOR KEY SHARE` lock PostgreSQL takes when
    another transaction inserts a row that refers to the locked one (an order line, a movement).
    """
    if ids is not None:
        queryset = queryset.filter(pk__in=sorted(set(ids)))
    rows = queryset.select_for_update(of=("self",), no_key=True).order_by("pk")
    return {row.pk: row for row in rows}


def lock_all_in_id_order(queryset: QuerySet) -> None:
    """Lock every row of the queryset as `lock_in_id_order` does, streaming the ids, so a
    million rows take no more memory than ten."""
    rows = queryset.select_for_update(no_key=True).order_by("pk").values_list("pk", flat=True)
    deque(rows.iterator(chunk_size=2000), maxlen=0)


def lock_row(queryset: QuerySet, pk: int) -> Model | None:
    """One row, locked (FOR NO KEY UPDATE), re-read after the lock; None when it is gone."""
    return queryset.select_for_update(of=("self",), no_key=True).filter(pk=pk).first()


WRITE_BATCH = 1000  # rows per UPDATE of write_columns


def write_columns(rows: list[Model], fields: list[str]) -> None:
    """Write these columns of the rows back: a single row as one hand-built UPDATE (on the
    fulfilment path the ORM's compiler costs more Python than the statement itself); more rows,
    on PostgreSQL, as `UPDATE ... FROM (VALUES ...)` in batches of WRITE_BATCH (Django's
    `bulk_update` builds a CASE per column whose cost grows with the batch: 1,000 products took
    it 4 s, this 0.05 s), elsewhere with one `bulk_update`."""
    if not rows:
        return
    meta = rows[0]._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table, key = quote(meta.db_table), quote(meta.pk.column)
    if len(rows) > 1 and connection.vendor != "postgresql":
        type(rows[0]).objects.bulk_update(rows, fields)
        return
    if len(rows) == 1:
        (row,) = rows
        assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
        values = [column.get_db_prep_save(getattr(row, column.attname), connection)
                  for column in columns]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE {key} = %s",
                [*values, row.pk],
            )
        return
    everything = [meta.pk, *columns]
    casts = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in everything) + ")"
    names = ", ".join(quote(field.column) for field in everything)
    assignments = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns)
    for start in range(0, len(rows), WRITE_BATCH):
        batch = rows[start : start + WRITE_BATCH]
        values = [
            field.get_db_prep_save(getattr(row, field.attname), connection)
            for row in batch
            for field in everything
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM (VALUES "
                f"{', '.join([casts] * len(batch))}) AS v({names}) WHERE t.{key} = v.{key}",
                values,
            )


DELETE_BATCH = 5000  # rows per DELETE of delete_in_batches


def delete_in_batches(queryset: QuerySet, *, batch_size: int = DELETE_BATCH) -> int:
    """Delete the queryset's rows a batch at a time (each batch its own short transaction, so a
    million old rows never hold one long lock or load at once). Returns how many."""
    deleted = 0
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size]):
        queryset.model._base_manager.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted


def _save(row: Model, *, update_fields: list[str]) -> None:
    row.save(update_fields=update_fields)


def update_under_lock(
    instance: Model, changes: dict, *, gone: str, save=_save, audit: bool = False
) -> Model:
    """Edit a row without lost updates: re-read it under its lock, write only the fields whose
    value changes (and `updated_at`, where the model has one), so a concurrent edit of other
    fields is kept. `save(row, update_fields=...)` writes it (e.g. turning a uniqueness
    violation into a BrokenRule); NotFound(gone) when the row was deleted meanwhile. The
    caller's instance is refreshed to the saved row, which is returned. `audit`: the change is
    written to the audit trail (each changed field's old and new value), in its transaction."""
    from core import audit as audit_trail  # its models: not at this module's import (routers)

    model = type(instance)
    with transaction.atomic():
        row = lock_row(model.objects, instance.pk)
        if row is None:
            raise NotFound(gone)
        fields = [field for field, value in changes.items() if getattr(row, field) != value]
        before = audit_trail.snapshot(row, fields)
        for field in fields:
            setattr(row, field, changes[field])
        if fields:
            stamped = any(f.name == "updated_at" for f in model._meta.concrete_fields)
            save(row, update_fields=[*fields, "updated_at"] if stamped else fields)
            if audit:
                audit_trail.record(
                    organization_id=row.organization_id,
                    action=audit_trail.Action.UPDATE,
                    obj=row,
                    changes=audit_trail.diff(before, audit_trail.snapshot(row, fields)),
                )
    for field in model._meta.concrete_fields:
        setattr(instance, field.attname, getattr(row, field.attname))
    return row


@contextmanager
def foreign_keys_checked_at_once():
    """Check foreign keys at each statement (in a savepoint, or in a transaction of its own),
    not at COMMIT.

    Django creates PostgreSQL foreign keys INITIALLY DEFERRED, so a row inserted while the row
    it refers to is being deleted fails only at COMMIT, as a 500. Checked at once, the check
    takes its FOR KEY SHARE lock on the referenced row immediately: a concurrent delete waits
    for this transaction, or this statement fails with an IntegrityError the service answers.
    """
    on_postgres = connection.vendor == "postgresql"
    own_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if on_postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield
        if on_postgres and not own_transaction:  # (a transaction of its own ends here)
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    """The referenced row is gone (SQLSTATE 23503)."""
    return getattr(exc.__cause__, "sqlstate", None) == "23503"


@contextmanager
def references_checked(*, message: str, field: str | None = None):
    """A transaction whose foreign keys are checked at each statement; a row it refers to that
    a concurrent request deleted is a BrokenRule (400) naming `field`, not a 500 at COMMIT."""
    try:
        with foreign_keys_checked_at_once():  # (rolled back before the error is answered)
            yield
    except IntegrityError as exc:
        if is_foreign_key_violation(exc):
            raise BrokenRule(message, field=field) from exc
        raise


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


# --- A read replica ---------------------------------------------------------------------------
# The heavy reads (reports, dashboard figures, exports, the product, level, ledger, order and
# return lists) go to a streaming replica when one is configured (DATABASE_REPLICA_URL: the
# `replica` alias), and everything else stays on the primary: every write, every read inside a
# transaction the code opened (what a service reads and locks), authentication and
# permissions (read before a view says its reads are heavy), and every read of a user who
# changed something in the last REPLICA_STICKY_SECONDS (read-your-writes, on every node: the
# mark is in the shared cache). A replica that lags more than REPLICA_MAX_LAG_SECONDS, or does
# not answer, is left alone until it does. With no replica configured, nothing changes.

DEFAULT = "default"
_heavy_reads: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "stockroom_heavy_reads", default=None
)

# What `pg_last_xact_replay_timestamp()` says, made a lag: 0 when everything received has been
# replayed (an idle primary sends nothing: the last replayed transaction may be old), 0 on a
# server that is not a replica (a stand-in alias pointing at the primary).
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""

REPLICA_OK, REPLICA_LAGGING, REPLICA_UNAVAILABLE = "ok", "lagging", "unavailable"


def replica_alias() -> str | None:
    """The replica's alias, None when there is none."""
    return getattr(settings, "REPLICA_DATABASE", None)


class ReplicaState:
    """The replica's state as this process last measured it: measured again at most once
    every REPLICA_CHECK_SECONDS (one query, or one connection attempt that gives up after
    REPLICA_CONNECT_TIMEOUT), by one thread at a time (the others use the last reading)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.state: str | None = None
        self.lag: float | None = None
        self.checked_at = float("-inf")

    def forget(self) -> None:
        self.state, self.lag, self.checked_at = None, None, float("-inf")

    def current(self) -> str:
        now = time.monotonic()
        if self.state is not None and now - self.checked_at < settings.REPLICA_CHECK_SECONDS:
            return self.state
        if not self._lock.acquire(blocking=self.state is None):
            return self.state  # another thread is measuring: its last reading meanwhile
        try:
            self.state, self.lag = measure_replica()
            self.checked_at = time.monotonic()
            return self.state
        finally:
            self._lock.release()

    def failed(self) -> None:
        """A query on the replica failed: unavailable until the next measurement."""
        self.state, self.lag, self.checked_at = REPLICA_UNAVAILABLE, None, time.monotonic()


REPLICA = ReplicaState()


def measure_replica() -> tuple[str, float | None]:
    """(state, lag in seconds) of the replica, measured now."""
    alias = replica_alias()
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL if connection.vendor == "postgresql" else "SELECT 0")
            lag = float(cursor.fetchone()[0])
    except Exception as exc:  # refused, timed out, shutting down: all mean "not now"
        logger.warning("Read replica unavailable, reads go to the primary: %s", exc)
        with contextlib.suppress(Exception):
            connection.close()
        return REPLICA_UNAVAILABLE, None
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning("Read replica %.1f s behind, reads go to the primary", lag)
        return REPLICA_LAGGING, lag
    return REPLICA_OK, lag


def replica_status() -> str | None:
    """For the health check: "ok", "lagging" or "unavailable"; None without a replica."""
    return REPLICA.current() if replica_alias() else None


def sticky_key(user_id) -> str:
    return f"replica-sticky:{user_id}"


def wrote(user_id) -> None:
    """The user changed something: their reads stay on the primary for REPLICA_STICKY_SECONDS,
    on every node (the mark is in the shared cache). Called before the answer goes out."""
    if replica_alias() and user_id is not None:
        cache.set(sticky_key(user_id), 1, timeout=settings.REPLICA_STICKY_SECONDS)


def is_sticky(user_id) -> bool:
    """Whether the user changed something in the last REPLICA_STICKY_SECONDS. While the shared
    cache is down (each node would see only its own marks) every user counts as sticky."""
    if getattr(cache, "is_down", False):
        return True
    return cache.get(sticky_key(user_id)) is not None or getattr(cache, "is_down", False)


def heavy_read_alias(user_id) -> str:
    """Where a heavy read of this user goes now: the replica, unless there is none, the user
    is sticky, or the replica lags or is down."""
    alias = replica_alias()
    if alias is None or user_id is None or is_sticky(user_id):
        return DEFAULT
    return alias if REPLICA.current() == REPLICA_OK else DEFAULT


@contextmanager
def heavy_reads(user_id):
    """The reads in this block may go to the replica (`heavy_read_alias`); the router still
    keeps every write, and every read inside a transaction, on the primary."""
    token = _heavy_reads.set(heavy_read_alias(user_id))
    try:
        yield _heavy_reads.get()
    finally:
        _heavy_reads.reset(token)


def start_heavy_reads(user_id) -> str:
    """From here to the end of the enclosing `primary_reads` block (a view's dispatch), the
    reads may go to the replica (`heavy_read_alias`): the alias chosen."""
    alias = heavy_read_alias(user_id)
    _heavy_reads.set(alias)
    return alias


def current_read_alias() -> str:
    """Where a heavy read goes here and now."""
    return _heavy_reads.get() or DEFAULT


@contextmanager
def primary_reads():
    """Every read in this block on the primary: what it computes is stored in the shared cache
    as current (the dashboard, the alerts), so it must not come from a replica that is behind."""
    token = _heavy_reads.set(None)
    try:
        yield
    finally:
        _heavy_reads.reset(token)


def reading_from_replica() -> bool:
    """Whether a read here and now would go to the replica."""
    alias = _heavy_reads.get()
    return alias not in (None, DEFAULT) and not in_transaction()


def in_transaction() -> bool:
    """Whether the code opened a transaction on the primary (one a test case wraps every test
    in does not count: the code behaves as it does in production)."""
    return any(
        not getattr(block, "_from_testcase", False) for block in connections[DEFAULT].atomic_blocks
    )


class ReplicaRouter:
    """Heavy reads (in a `heavy_reads` block) on the replica; everything else on the primary.
    Without a replica, every alias is the primary."""

    def db_for_read(self, model, **hints):
        alias = _heavy_reads.get()
        if alias is None or alias == DEFAULT or in_transaction():
            return DEFAULT
        return alias

    def db_for_write(self, model, **hints):
        return DEFAULT

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT


def primary_position() -> str | None:
    """The primary's WAL position now (None on SQLite): where it inserts its next record, so
    past every commit record already inserted. Not `pg_current_wal_lsn()`, where it has
    written to: with `synchronous_commit = off` a commit is visible before its record is
    written, and a replica at that position does not have it yet (the cluster test caught a
    dashboard cached stale that way)."""
    if connections[DEFAULT].vendor != "postgresql":
        return None
    with connections[DEFAULT].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cursor.fetchone()[0]


def replica_has_replayed(alias: str, position: str | None) -> bool:
    """Whether the replica has replayed the primary's WAL up to `position` (a server that is
    not a replica, a stand-in, has everything)."""
    if position is None or connections[alias].vendor != "postgresql":
        return True
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn",
            [position],
        )
        return bool(cursor.fetchone()[0])


@contextmanager
def reads_for_cache():
    """Reads whose result is stored in the shared cache as current (the dashboard, the alerts):
    on the replica only when it has replayed everything the primary had written when this
    block began, else on the primary. The caller read the value's version before (a change
    moves it on after its commit), so every change that version stands for committed before
    the primary's WAL position read here: a replica past it has them all, and a figure
    computed there is as current as its version says. One small query on each side."""
    if not reading_from_replica():
        yield
        return
    alias = _heavy_reads.get()
    try:
        caught_up = replica_has_replayed(alias, primary_position())
    except DatabaseError as exc:
        logger.warning("Read replica not checked, the figures read the primary: %s", exc)
        caught_up = False
    if caught_up:
        yield
    else:
        with primary_reads():
            yield
