"""Streamed CSV of the product list: rows leave as they are read, never held in memory."""

from collections.abc import Iterator

from django.db.models import QuerySet

from config.exports import csv_download
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


def product_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The export's rows, read from the database in chunks (a server-side cursor on Postgres)."""
    fields = [expression for _, expression in PRODUCT_COLUMNS]
    return queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def products_csv_response(queryset: QuerySet):
    """A `products-YYYY-MM-DD.csv` download of the (filtered, ordered) product queryset."""
    return csv_download(
        header=[header for header, _ in PRODUCT_COLUMNS],
        rows=product_rows(queryset),
        filename=f"products-{utc_today()}.csv",
    )
