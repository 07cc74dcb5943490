"""Streamed CSV downloads: rows leave as they are read, never built in memory (DESIGN rule 7).

Two ways to the same bytes: rows read by Django and written by Python's `csv` (any database),
and on PostgreSQL `COPY (query) TO STDOUT` with every cell formatted by the query itself
(`copy_lines`), about twenty times faster.
"""

import contextlib
import csv
import datetime
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections
from django.db.models import F, Func, QuerySet, TextField, Value
from django.http import StreamingHttpResponse
from rest_framework import renderers
from rest_framework.fields import DateTimeField

# Text a spreadsheet would run as a formula gets a leading apostrophe. The full-width forms
# count too (＝１＋１): Excel in East Asian locales turns a full-width sign typed at the start of
# a cell into a formula, and whether it or another spreadsheet does so when it opens a CSV is
# not something we can promise either way, so they are guarded as well.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Excel reads a CSV as UTF-8 only when it starts with the byte-order mark ("Café crème").
BYTE_ORDER_MARK = "\ufeff"
_timestamp = DateTimeField()


@dataclass(frozen=True)
class Column:
    """One CSV column: its header, the queryset expression it reads, and for decimals the
    places the JSON API writes (money 2, costs 4), on every database."""

    header: str
    expression: str
    places: int | None = None
    cost: bool = False  # null (empty) for callers who may not see costs


def decimal_text(value, places: int) -> str:
    """ "35.88", never "35.8800000000000" (SQLite computes `quantity * price` as a float)."""
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places)):f}"


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value):
        return value


def csv_cell(value) -> str:
    """One cell, written as the JSON API writes the value, and safe to open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return _timestamp.to_representation(value)  # ISO 8601 in UTC, like the JSON
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(columns: list[Column], rows: Iterable[tuple], *, hide_costs=False) -> Iterator[str]:
    """Yield the byte-order mark and the header, then one CSV line per row, one at a time."""
    writer = csv.writer(_Echo())
    yield BYTE_ORDER_MARK + writer.writerow([column.header for column in columns])
    places = [column.places for column in columns]
    hidden = [hide_costs and column.cost for column in columns]
    for row in rows:
        yield writer.writerow(
            [
                ""
                if hide
                else decimal_text(value, digits)
                if digits is not None and value is not None
                else csv_cell(value)
                for value, digits, hide in zip(row, places, hidden, strict=True)
            ]
        )


def csv_download(
    *, columns: list[Column], rows: Iterable[tuple], filename: str, hide_costs: bool = False
):
    """A streamed `text/csv` attachment named `filename`."""
    return _attachment(csv_lines(columns, rows, hide_costs=hide_costs), filename)


def _attachment(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- COPY on PostgreSQL: the same cells, formatted by the query --------------------------------

# Each kind of value as `csv_cell` writes it, in SQL that names the value once (its SQL may carry
# parameters). An empty cell is a NULL: COPY writes it unquoted, as Python's `csv` writes "".
_GUARDED_TEXT = (  # text a spreadsheet would run as a formula gets a leading apostrophe
    r"NULLIF(regexp_replace(%(expressions)s, E'^([-=+@\t\r\uFF1D\uFF0B\uFF0D\uFF20])', '''\1'), '')"
)
_CELL_SQL = {
    "text": _GUARDED_TEXT,
    "integer": "(%(expressions)s)::text",
    "boolean": "(CASE %(expressions)s WHEN true THEN 'true' WHEN false THEN 'false' END)",
    "date": "to_char(%(expressions)s, 'YYYY-MM-DD')",
    # DRF's timestamps: UTC, microseconds only when there are any, and a Z.
    "datetime": (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '.000000Z', 'Z')"
    ),
    # json.dumps(value, sort_keys=True, ensure_ascii=False) of an object of strings (a column:
    # it is named twice, so that the usual empty object costs no subquery).
    "json": (
        "(CASE WHEN %(expressions)s = '{}'::jsonb THEN '{}' ELSE (SELECT '{' || string_agg("
        "to_json(pair.key)::text || ': ' || pair.value::text, ', ' ORDER BY pair.key "
        "COLLATE \"C\") || '}' FROM jsonb_each(%(expressions)s) AS pair) END)"
    ),
}
_KINDS = {
    "CharField": "text",
    "TextField": "text",
    "IntegerField": "integer",
    "PositiveIntegerField": "integer",
    "BigIntegerField": "integer",
    "AutoField": "integer",
    "BigAutoField": "integer",
    "BooleanField": "boolean",
    "DateField": "date",
    "DateTimeField": "datetime",
    "JSONField": "json",
}


def _cell(queryset: QuerySet, column: Column, *, hidden: bool):
    if hidden:
        return Value(None, output_field=TextField())
    if column.places is not None:
        template = f"round(%(expressions)s, {int(column.places)})::text"
    else:
        probe = queryset.annotate(_probe=F(column.expression)).query.annotations["_probe"]
        template = _CELL_SQL[_KINDS[probe.output_field.get_internal_type()]]
    return Func(F(column.expression), template=template, output_field=TextField())


COPY_BLOCK_BYTES = 64 * 1024


def copy_lines(
    queryset: QuerySet, columns: list[Column], *, hide_costs: bool = False
) -> Iterator[bytes]:
    """The byte-order mark and the header, then the rows of `queryset` as `csv_lines` writes
    them, byte for byte, but by PostgreSQL: `COPY (query) TO STDOUT`, each cell formatted in
    the query, streamed as the server sends it (a million rows need no more memory than ten)."""
    header = next(csv_lines(columns, [], hide_costs=hide_costs)).encode()
    cells = {
        f"cell_{position}": _cell(queryset, column, hidden=hide_costs and column.cost)
        for position, column in enumerate(columns)
    }
    rows = queryset.annotate(**cells).values_list(*cells)
    sql, params = rows.query.sql_with_params()
    statement = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
    yield header
    with connections[rows.db].cursor() as cursor:
        # Logged as Django logs queries when it does (DEBUG, tests): psycopg's COPY is not.
        logged = (
            cursor.debug_sql(statement, params, use_last_executed_query=True)
            if hasattr(cursor, "debug_sql")
            else None
        )
        with logged or contextlib.nullcontext(), cursor.cursor.copy(statement, params) as copy:
            quoted = False
            for block in _blocks(copy):
                block, quoted = _crlf(block, quoted)
                yield block


def _blocks(copy, size: int = COPY_BLOCK_BYTES) -> Iterator[bytes]:
    """COPY's data (a message per row) gathered into blocks of about `size` bytes: one write
    to the client each, not one per row."""
    parts, gathered = [], 0
    for data in copy:
        parts.append(data)
        gathered += len(data)
        if gathered >= size:
            yield b"".join(parts)
            parts, gathered = [], 0
    if parts:
        yield b"".join(parts)


def _crlf(chunk: bytes, quoted: bool) -> tuple[bytes, bool]:
    """COPY ends rows with \n, Python's `csv` with \r\n: a line break outside quotes becomes
    \r\n (one inside a quoted cell stays). `quoted`: whether the chunk starts inside quotes
    (a doubled quote inside a cell counts twice: the parity holds)."""
    parts = chunk.split(b'"')
    start = 1 if quoted else 0
    for index in range(start, len(parts), 2):
        parts[index] = parts[index].replace(b"\n", b"\r\n")
    return b'"'.join(parts), quoted ^ (len(parts) % 2 == 0)


def copy_download(
    queryset: QuerySet, *, columns: list[Column], filename: str, hide_costs: bool = False
):
    """A streamed `text/csv` attachment of `queryset` through COPY (PostgreSQL only)."""
    return _attachment(copy_lines(queryset, columns, hide_costs=hide_costs), filename)


class CSVRenderer(renderers.BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation for an export action.

    The export streams its own body; this renders only errors, as JSON labelled as JSON.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)
