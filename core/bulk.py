"""Bulk writes by PostgreSQL COPY (an import's products, levels, movements, events and audit
rows): `copy_rows` appends tuples, `insert_rows` inserts model instances as `bulk_create` does
(ids reserved from the sequence first: COPY returns none). Below COPY_AT_LEAST rows, and on
SQLite, `insert_rows` is `bulk_create`."""

from collections.abc import Iterable

from django.db import connection
from django.db.models import JSONField, Model
from django.utils import timezone

COPY_AT_LEAST = 100  # rows: fewer are one INSERT (COPY's round trips cost more than they save)


def copy_rows(model: type[Model], columns: list[str], rows: Iterable[tuple]) -> None:
    """Append rows (tuples of the `columns`' values, as the database takes them: JSON already
    adapted) to the model's table in one PostgreSQL `COPY ... FROM STDIN`: no SQL to build or
    parse, no parameter per value (a bulk INSERT of 100,000 rows spends more in Django's
    compiler than PostgreSQL spends storing them). Constraints hold as for an INSERT: a
    violation is Django's IntegrityError."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """`count` new ids from the model's sequence (PostgreSQL), ascending: rows given them are
    written by COPY, which returns none."""
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def insert_rows(rows: list[Model], *, batch_size: int = 1000) -> list[Model]:
    """Insert new model instances as `bulk_create` does (their `auto_now`/`auto_now_add`
    fields stamped, their ids set), on PostgreSQL from COPY_AT_LEAST rows on by `copy_rows`
    with ids reserved first (`reserve_ids`; an instance given its id keeps it). Field values
    must be plain (no expressions). Returns the rows."""
    if not rows:
        return rows
    model = type(rows[0])
    if connection.vendor != "postgresql" or len(rows) < COPY_AT_LEAST:
        return model.objects.bulk_create(rows, batch_size=batch_size)
    meta = model._meta
    now = timezone.now()
    fields = meta.concrete_fields
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for row in rows:
                setattr(row, field.attname, now)
        elif field.is_relation:  # a related instance given before it had its id
            for row in rows:
                if getattr(row, field.attname) is None and field.is_cached(row):
                    related = field.get_cached_value(row)
                    setattr(row, field.attname, related.pk if related is not None else None)
    without_id = [row for row in rows if row.pk is None]
    for row, pk in zip(without_id, reserve_ids(model, len(without_id)), strict=True):
        row.pk = pk
    adapted = [  # JSON needs its adapter; psycopg takes the other fields' values as they are
        (field.attname, field.get_db_prep_save if isinstance(field, JSONField) else None)
        for field in fields
    ]

    def values(row):
        return tuple(
            getattr(row, attname) if prep is None else prep(getattr(row, attname), connection)
            for attname, prep in adapted
        )

    copy_rows(model, [attname for attname, _ in adapted], map(values, rows))
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias
    return rows
