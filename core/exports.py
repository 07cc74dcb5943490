"""Streamed CSV downloads: rows leave as they are read, never built in memory (DESIGN rule 7)."""

import csv
import datetime
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.http import StreamingHttpResponse
from rest_framework import renderers
from rest_framework.fields import DateTimeField

# Text a spreadsheet would run as a formula gets a leading apostrophe.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
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
    response = StreamingHttpResponse(
        csv_lines(columns, rows, hide_costs=hide_costs), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
