"""Streamed CSV of the stock ledger: rows go out as they are read, never built in memory."""

from collections.abc import Iterator

from django.db.models import QuerySet

from config.exports import csv_download
from inventory.selectors import utc_today
from stock.models import StockMovement

# (header, value expression): the list's fields in its order, then the product's SKU and name
# so that a spreadsheet reader need not look product ids up.
MOVEMENT_COLUMNS = [
    ("id", "id"),
    ("product", "product_id"),
    ("movement_type", "movement_type"),
    ("quantity", "quantity"),
    ("delta", "delta"),
    ("balance_after", "balance_after"),
    ("note", "note"),
    ("source", "source"),
    ("reference", "reference"),
    ("performed_by", "performed_by__username"),
    ("created_at", "created_at"),
    ("product_sku", "product__sku"),
    ("product_name", "product__name"),
]
CHUNK_SIZE = 2000


def movement_rows(queryset: QuerySet[StockMovement]) -> Iterator[tuple]:
    """The export's rows, read from the database in chunks (a server-side cursor on Postgres)."""
    return queryset.values_list(*(column for _, column in MOVEMENT_COLUMNS)).iterator(
        chunk_size=CHUNK_SIZE
    )


def movements_csv_response(queryset: QuerySet[StockMovement]):
    """A `stock-movements-YYYY-MM-DD.csv` download of the (filtered, ordered) movements."""
    return csv_download(
        header=[header for header, _ in MOVEMENT_COLUMNS],
        rows=movement_rows(queryset),
        filename=f"stock-movements-{utc_today()}.csv",
    )
