"""Streamed CSV export of the ledger: rows go out as they are read, never built in memory."""

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from stock.models import StockMovement

HEADER = [
    "id",
    "created_at",
    "product_id",
    "sku",
    "product_name",
    "movement_type",
    "quantity",
    "delta",
    "balance_after",
    "source",
    "reference",
    "performed_by",
    "note",
]
COLUMNS = [
    "id",
    "created_at",
    "product_id",
    "product__sku",
    "product__name",
    "movement_type",
    "quantity",
    "delta",
    "balance_after",
    "source",
    "reference",
    "performed_by__username",
    "note",
]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    """Text cells that a spreadsheet would run as a formula are quoted with a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def movement_rows(queryset: QuerySet[StockMovement], *, chunk_size: int = 2000) -> Iterable:
    """The export's rows, read from the database in chunks."""
    return queryset.values_list(*COLUMNS).iterator(chunk_size=chunk_size)


def csv_lines(rows: Iterable) -> Iterator[str]:
    """A header line, then one CSV line per row."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])
