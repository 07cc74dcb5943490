"""Streamed CSV of the stock ledger: rows go out as they are read, never built in memory."""

from collections.abc import Iterator

from django.db.models import QuerySet

from core.dates import utc_today
from core.exports import Column, csv_download
from stock.models import StockMovement

# The list's fields in its order, the product's SKU and name beside its id.
MOVEMENT_COLUMNS = [
    Column("id", "id"),
    Column("product", "product_id"),
    Column("sku", "product__sku"),
    Column("product_name", "product__name"),
    Column("movement_type", "movement_type"),
    Column("quantity", "quantity"),
    Column("delta", "delta"),
    Column("balance_after", "balance_after"),
    Column("note", "note"),
    Column("source", "source"),
    Column("reference", "reference"),
    Column("performed_by", "performed_by__username"),
    Column("created_at", "created_at"),
]
CHUNK_SIZE = 2000


def movement_rows(queryset: QuerySet[StockMovement]) -> Iterator[tuple]:
    """The export's rows, read from the database in chunks (a server-side cursor on Postgres)."""
    return queryset.values_list(*(column.expression for column in MOVEMENT_COLUMNS)).iterator(
        chunk_size=CHUNK_SIZE
    )


def movements_csv_response(queryset: QuerySet[StockMovement]):
    """A `stock-movements-YYYY-MM-DD.csv` download of the (filtered, ordered) movements."""
    return csv_download(
        columns=MOVEMENT_COLUMNS,
        rows=movement_rows(queryset),
        filename=f"stock-movements-{utc_today()}.csv",
    )
