"""Streamed CSV of the product list: rows leave as they are read, never held in memory."""

import csv
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from inventory.selectors import utc_today

# (header, value expression) in the list's field order; stock value included.
PRODUCT_COLUMNS = [
    ("id", "id"),
    ("sku", "sku"),
    ("name", "name"),
    ("description", "description"),
    ("category", "category_id"),
    ("category_name", "category__name"),
    ("supplier", "supplier_id"),
    ("price", "price"),
    ("cost_price", "cost_price"),
    ("quantity", "quantity"),
    ("low_stock_threshold", "low_stock_threshold"),
    ("expiration_date", "expiration_date"),
    ("is_low_stock", "is_low_stock"),
    ("is_expired", "is_expired"),
    ("stock_value", "stock_value"),
    ("parent", "parent_id"),
    ("attributes", "attributes"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
]
CHUNK_SIZE = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() hands the line back instead of storing it."""

    def write(self, value):
        return value


def safe_cell(value) -> str:
    """A cell a spreadsheet will not execute: text starting with = + - @ gets an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(header: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    """Yield the header then one CSV line per row, one at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def product_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The export's rows, read from the database in chunks (a server-side cursor on Postgres)."""
    fields = [expression for _, expression in PRODUCT_COLUMNS]
    return queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def products_csv_response(queryset: QuerySet) -> StreamingHttpResponse:
    """A `products-YYYY-MM-DD.csv` download of the (filtered, ordered) product queryset."""
    header = [header for header, _ in PRODUCT_COLUMNS]
    response = StreamingHttpResponse(
        csv_lines(header, product_rows(queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="products-{utc_today()}.csv"'
    return response
