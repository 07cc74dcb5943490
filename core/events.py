"""The event outbox (DESIGN rule 8): one table that every service writes its events to, in its
own transaction, and that several consumers read after commit, each remembering how far it got.

- `emit(...)`/`emit_many(...)` in a service's transaction: the event exists only if the change
  commits. `insert_with_events(...)` writes new rows and one event each in the same statement
  (a stock change's movements and their `stock.changed`). After commit, `events_committed` is
  sent (with the organizations and types) so that consumers can queue their work now; without
  it (a broker down, a worker dead) their periodic sweep finds the events anyway. A service
  knows no consumer.
- `consume(consumer, apply, types=...)`: hand every event not yet applied to `apply`, in order,
  and move the consumer's cursor on in the same transaction, one batch at a time (one run per
  consumer at a time). `apply` must be idempotent only for a crash between its own side effects
  outside the database and the commit. Each consumer is registered (`register_consumer`, in
  its app's `ready()`).
- `prune(before=...)` (nightly, `EVENT_RETENTION_DAYS`): deletes the events older than that
  which every registered consumer has applied and no row refers to any more (a webhook
  delivery, pruned by its own app first).

Order: events are read by (`txid`, `id`) and only up to the oldest transaction still running
on PostgreSQL (`pg_snapshot_xmin`), so an event whose transaction commits after a later-numbered
one is never skipped; on SQLite, writers are serialised and the id order is the commit order.
Within a batch, events are applied by id: a product's events are written under its row lock,
so their ids are in commit order.
"""

import datetime
import decimal
import json
import time
import uuid
from collections.abc import Callable, Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, Max, Model, OuterRef, Q
from django.db.models.sql import InsertQuery
from django.dispatch import Signal
from django.utils import timezone

from core.bulk import COPY_AT_LEAST, copy_rows, insert_rows
from core.db import delete_in_batches, one_at_a_time
from core.models import Event, EventCursor

# Sent after a transaction that wrote events commits: `organization_ids`, `types` (sorted).
events_committed = Signal()

BATCH_SIZE = 1000
INSERT_BATCH = 1000  # events per INSERT (5 parameters each)
LAST_ID = 2**63 - 1
ROWS = "<rows>"  # where insert_with_events' SQL reads the inserted rows from
# How long a consumer waits for a running transaction that holds committed events back.
SETTLE_WAIT = 2.0
# The consumers (register_consumer): an event is pruned only once all of them applied it.
_consumers: set[str] = set()


def _json_text(data: dict) -> str:
    """The event's data as JSON text: money and dates as the API writes them (Decimal ->
    "19.90" as given, dates ISO)."""
    return json.dumps(data, cls=DjangoJSONEncoder)


def _jsonable(data: dict) -> dict:
    return json.loads(_json_text(data))


def emit(*, organization_id: int, type: str, data: dict) -> Event:
    """Write one event in the caller's transaction (see the module's docstring)."""
    return _inserted([(organization_id, type, data)])[0]


def emit_many(events: Iterable[tuple[int, str, dict]]) -> None:
    """Write (organization_id, type, data) events in the caller's transaction, in one INSERT
    (on PostgreSQL, from core.bulk.COPY_AT_LEAST events on, in one COPY: an import's 200,000)."""
    events = list(events)
    if connection.vendor != "postgresql" or len(events) < COPY_AT_LEAST:
        _inserted(events)
        return
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")  # as _insert's txid
            (txid,) = cursor.fetchone()
        copy_rows(
            Event,
            ["uuid", "organization_id", "type", "data", "created_at", "txid"],
            (
                (uuid.uuid4(), organization_id, type, _json_text(data), now, txid)
                for organization_id, type, data in events
            ),
        )
        _Committed.of_this_transaction().add((event[0], event[1]) for event in events)


def insert_with_events(rows: list[Model], *, type: str, data: dict[str, str]) -> list[Model]:
    """INSERT new `rows` (one model, with an `organization_id`; without ids, plain values) as
    `core.bulk.insert_rows` does, and one `type` event for each, in the rows' order. `data`
    maps each key of an event's data to an SQL expression over the inserted row, named
    `inserted` (`"inserted.product_id"`, or a scalar subquery): the data is defined once.

    On PostgreSQL, a few rows and their events are one statement (a data-modifying CTE: no
    round trip of its own on a stock change's path); many (or on SQLite) are the rows' own
    insert, then one INSERT ... SELECT of their events. Sets the rows' ids; returns the rows."""
    if not rows:
        return rows
    model, quote = rows[0].__class__, connection.ops.quote_name
    pk = f"inserted.{quote(model._meta.pk.column)}"
    postgresql = connection.vendor == "postgresql"
    key = "%s::text" if postgresql else "%s"
    pairs = ", ".join(f"{key}, {expression}" for expression in data.values())
    events = (
        f"INSERT INTO {quote(Event._meta.db_table)}"
        f" ({', '.join(quote(c) for c in (*_COLUMNS, 'txid'))}) SELECT "
        + (
            "gen_random_uuid(), inserted.organization_id, %s::text,"
            f" jsonb_build_object({pairs}), %s::timestamptz, pg_current_xact_id()::text::bigint"
            if postgresql
            else f"lower(hex(randomblob(16))), inserted.organization_id, %s,"
            f" json_object({pairs}), %s, 0"
        )
        + f" FROM {ROWS} ORDER BY {pk}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    event_params = [type, *data.keys(), now]
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            if postgresql and len(rows) < COPY_AT_LEAST:
                insert, params = _insert_returning(rows)
                cursor.execute(
                    f"WITH inserted AS ({insert}), event AS ({events.replace(ROWS, 'inserted')})"
                    f" SELECT {pk} FROM inserted",
                    [*params, *event_params],
                )
                for row, (row_pk,) in zip(rows, cursor.fetchall(), strict=True):
                    row.pk = row_pk
                    row._state.adding, row._state.db = False, connection.alias
            else:
                insert_rows(rows)
                table = f"{quote(model._meta.db_table)} inserted"
                ids = [row.pk for row in rows]
                if postgresql:  # one statement
                    source = f"{table} WHERE {pk} = ANY(%s::bigint[])"
                    cursor.execute(events.replace(ROWS, source), [*event_params, ids])
                else:  # a statement per INSERT_BATCH ids: SQLite's limit on parameters
                    for start in range(0, len(ids), INSERT_BATCH):
                        batch = ids[start : start + INSERT_BATCH]
                        source = f"{table} WHERE {pk} IN ({', '.join(['%s'] * len(batch))})"
                        cursor.execute(events.replace(ROWS, source), [*event_params, *batch])
        _Committed.of_this_transaction().add((row.organization_id, type) for row in rows)
    return rows


def _insert_returning(rows: list[Model]) -> tuple[str, list]:
    """The INSERT of new `rows` as `bulk_create` builds it (defaults, `auto_now_add`), returning
    every column: rows without ids whose related objects are given by id or saved already."""
    meta = rows[0]._meta
    query = InsertQuery(rows[0].__class__)
    query.insert_values([field for field in meta.concrete_fields if not field.primary_key], rows)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = meta.concrete_fields
    [(sql, params)] = compiler.as_sql()
    return sql, list(params)


def _inserted(events: list[tuple[int, str, dict]]) -> list[Event]:
    now = timezone.now()
    rows = [
        Event(
            uuid=uuid.uuid4(),
            organization_id=organization_id,
            type=type,
            data=_jsonable(data),
            created_at=now,
        )
        for organization_id, type, data in events
    ]
    if not rows:
        return []
    with transaction.atomic(savepoint=False):
        _insert(rows)
        _Committed.of_this_transaction().add((row.organization_id, row.type) for row in rows)
    return rows


_COLUMNS = ("uuid", "organization_id", "type", "data", "created_at")


def _insert(rows: list[Event]) -> None:
    """The events' INSERT (one per INSERT_BATCH rows), hand-built: it is on every stock
    change's path, where the ORM's compiler costs more Python than the statement itself (as
    core.db.write_columns). `txid` is the writing transaction's id on PostgreSQL, 0 elsewhere.
    Sets each row's id and txid."""
    fields = [Event._meta.get_field(name) for name in _COLUMNS]
    quote = connection.ops.quote_name
    txid = "pg_current_xact_id()::text::bigint" if connection.vendor == "postgresql" else "0"
    insert = (
        f"INSERT INTO {quote(Event._meta.db_table)}"
        f" ({', '.join(quote(field.column) for field in fields)}, {quote('txid')}) VALUES "
    )
    one_row = f"({', '.join(['%s'] * len(fields))}, {txid})"
    returning = f" RETURNING {quote('id')}, {quote('txid')}"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            batch = rows[start : start + INSERT_BATCH]
            cursor.execute(
                insert + ", ".join([one_row] * len(batch)) + returning,
                [field.get_db_prep_save(getattr(row, field.attname), connection)
                 for row in batch for field in fields],
            )  # fmt: skip
            for row, (pk, txid_written) in zip(batch, cursor.fetchall(), strict=True):
                row.pk, row.txid = pk, txid_written
                row._state.adding = False


class _Committed:
    """The after-commit call that tells the consumers: one per atomic block (savepoint), however
    many events it writes; a rolled-back savepoint drops its own."""

    def __init__(self):
        self.organization_ids: set[int] = set()
        self.types: set[str] = set()

    @classmethod
    def of_this_transaction(cls) -> "_Committed":
        here = set(connection.savepoint_ids)
        for savepoints, callback, _ in reversed(connection.run_on_commit):
            if not here <= savepoints:  # an earlier block's: this block's are all later
                break
            if isinstance(callback, cls) and savepoints == here:
                return callback
        callback = cls()
        transaction.on_commit(callback, robust=True)  # a failing listener fails no change
        return callback

    def add(self, written: Iterable[tuple[int, str]]) -> None:
        """(organization_id, type) of the events written."""
        for organization_id, type in written:
            self.organization_ids.add(organization_id)
            self.types.add(type)

    def __call__(self):
        events_committed.send(
            sender=Event,
            organization_ids=sorted(self.organization_ids),
            types=sorted(self.types),
        )


def _horizon() -> tuple[int, int | None] | None:
    """(the oldest transaction of this database still running, or the next to start when none
    runs; this transaction's own id, if it has one): events of transactions from the horizon
    on may be invisible yet. None when every writer is serialised (SQLite).

    Only this database's transactions count (others write no events of ours); the next id is
    read first, so a transaction that gets its id meanwhile is at or after it. The caller's
    own transaction does not hold the horizon back: a consumer run inside the writing
    transaction (the test suite's) reads that transaction's events too."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint,"
            " pg_current_xact_id_if_assigned()::text::bigint"
        )
        next_id, own = cursor.fetchone()
        cursor.execute(
            "SELECT min(backend_xid::text::bigint) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        oldest = cursor.fetchone()[0]
    # backend_xid is a 32-bit xid; the horizon an epoch-extended one (xid8), as txid is.
    if oldest is not None:
        epoch = next_id >> 32
        full = (epoch << 32) | oldest
        if full > next_id:  # wrapped around since the running one began
            full -= 1 << 32
        next_id = min(next_id, full)
    return next_id, own


def pending(*, consumer: str, types: Iterable[str] | None = None, limit: int = BATCH_SIZE):
    """(the consumer's cursor, the next settled events it has not applied, in reading order,
    the position up to which every event is settled: a consumer that applied all the events
    of its types before it may move its cursor there, past the events of other types)."""
    cursor, _ = EventCursor.objects.get_or_create(consumer=consumer)
    after = Q(txid__gt=cursor.txid) | Q(txid=cursor.txid, id__gt=cursor.event_id)
    events = Event.objects.filter(after)
    if types is not None:
        events = events.filter(type__in=list(types))
    horizon = _horizon()
    if horizon is not None:
        before, own = horizon
        events = events.filter(Q(txid__lt=before) | Q(txid=own) if own else Q(txid__lt=before))
        # This transaction may write more events (a consumer run inside the writer's): they
        # stay after the position.
        settled = (min(before, own) - 1 if own else before - 1, LAST_ID)
    else:  # one writer at a time: everything visible now is settled
        last_id = Event.objects.aggregate(last=Max("id"))["last"] or 0
        events = events.filter(id__lte=last_id)
        settled = (0, last_id)
    return cursor, list(events.order_by("txid", "id")[:limit]), settled


def unsettled(*, consumer: str, types: Iterable[str] | None = None) -> bool:
    """Whether committed events wait for the horizon (a transaction that began earlier)."""
    cursor = EventCursor.objects.filter(consumer=consumer).first()
    if cursor is None or connection.vendor != "postgresql":
        return False
    after = Q(txid__gt=cursor.txid) | Q(txid=cursor.txid, id__gt=cursor.event_id)
    events = Event.objects.filter(after)
    if types is not None:
        events = events.filter(type__in=list(types))
    return events.exists()


def consume(
    *,
    consumer: str,
    apply: Callable[[list[Event]], None],
    types: Iterable[str] | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Apply every settled event this consumer has not applied yet (of `types`, or all), a
    batch at a time: `apply(events)` (by id) and the cursor's move commit together, one run per
    consumer at a time. Returns how many events were applied."""
    applied = 0
    waited_until = time.monotonic() + SETTLE_WAIT
    while True:
        with one_at_a_time(f"core.events.{consumer}"):
            cursor, events, settled = pending(consumer=consumer, types=types, limit=batch_size)
            position = (cursor.txid, cursor.event_id)
            if events:
                apply(sorted(events, key=lambda event: event.pk))
                position = (events[-1].txid, events[-1].pk)
            if len(events) < batch_size:  # every settled event of its types is applied
                position = max(position, settled)
            if position != (cursor.txid, cursor.event_id):
                EventCursor.objects.filter(pk=cursor.pk).update(
                    txid=position[0], event_id=position[1], updated_at=timezone.now()
                )
        applied += len(events)
        if len(events) == batch_size:
            continue
        # Committed events behind a transaction still running: it usually ends within
        # milliseconds; wait a little for it, else the next run (or the sweep) takes them.
        if (
            connection.in_atomic_block
            or time.monotonic() > waited_until
            or not unsettled(consumer=consumer, types=types)
        ):
            return applied
        time.sleep(0.05)


def register_consumer(consumer: str) -> None:
    """Tell the outbox that `consumer` reads it (from its app's `ready()`): no event it has not
    applied is pruned, even before its first run."""
    _consumers.add(consumer)


def prune(*, before: datetime.datetime) -> int:
    """Delete the events created before `before` that every registered consumer has applied
    and that no row refers to (a webhook delivery kept for its own retention), a batch at a
    time. Returns how many were deleted."""
    old = Event.objects.filter(created_at__lt=before)
    cursors = {c.consumer: c for c in EventCursor.objects.filter(consumer__in=_consumers)}
    for consumer in _consumers:
        cursor = cursors.get(consumer)
        if cursor is None:  # it has not run yet: it will read from the first event
            return 0
        old = old.filter(Q(txid__lt=cursor.txid) | Q(txid=cursor.txid, id__lte=cursor.event_id))
    referred_by = [  # e.g. webhooks' deliveries (a hidden relation: related_name="+")
        field
        for field in Event._meta.get_fields(include_hidden=True)
        if field.auto_created and not field.concrete and (field.one_to_many or field.one_to_one)
    ]
    for relation in referred_by:
        referring = relation.related_model._base_manager.filter(
            **{relation.field.attname: OuterRef("pk")}
        )
        old = old.filter(~Exists(referring))
    return delete_in_batches(old)


def money(value) -> str | None:
    """Money in an event's data as the API writes it: a string with 2 places."""
    if value is None:
        return None
    return str(decimal.Decimal(value).quantize(decimal.Decimal("0.01")))


def timestamp(value: datetime.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
