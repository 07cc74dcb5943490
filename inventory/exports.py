"""Streamed CSV of the product list: rows leave as they are read, never held in memory."""

import datetime
from collections.abc import Iterator

from django.db import connections
from django.db.models import QuerySet

from core.exports import Column, copy_download, csv_download

# The list's fields in its order (stock value included), names beside their ids.
PRODUCT_COLUMNS = [
    Column("id", "id"),
    Column("sku", "sku"),
    Column("barcode", "barcode"),
    Column("name", "name"),
    Column("description", "description"),
    Column("category", "category_id"),
    Column("category_name", "category__name"),
    Column("supplier", "supplier_id"),
    Column("supplier_name", "supplier__name"),
    Column("price", "price", places=2),
    Column("cost_price", "cost_price", places=2, cost=True),
    Column("average_cost", "average_cost", places=4, cost=True),
    Column("quantity", "quantity"),
    Column("allocated", "allocated"),
    Column("available", "available"),
    Column("low_stock_threshold", "low_stock_threshold"),
    Column("on_order", "on_order"),
    Column("track_lots", "track_lots"),
    Column("expiration_date", "expiration_date"),
    Column("expired_quantity", "expired_quantity"),
    Column("is_low_stock", "is_low_stock"),
    Column("is_expired", "is_expired"),
    Column("stock_value", "stock_value", places=2),
    Column("parent", "parent_id"),
    Column("attributes", "attributes"),
    Column("last_counted_at", "last_counted_at"),
    Column("created_at", "created_at"),
    Column("updated_at", "updated_at"),
]
CHUNK_SIZE = 2000


def product_rows(queryset: QuerySet) -> Iterator[tuple]:
    """The export's rows, read from the database in chunks (a server-side cursor on Postgres)."""
    fields = [column.expression for column in PRODUCT_COLUMNS]
    return queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def products_csv_response(queryset: QuerySet, *, today: datetime.date, hide_costs: bool = False):
    """A `products-YYYY-MM-DD.csv` download (the organization's `today`) of the (filtered,
    ordered) product queryset: by COPY on PostgreSQL, else row by row; the same bytes either
    way."""
    filename = f"products-{today}.csv"
    if connections[queryset.db].vendor == "postgresql":
        return copy_download(
            queryset, columns=PRODUCT_COLUMNS, filename=filename, hide_costs=hide_costs
        )
    return csv_download(
        columns=PRODUCT_COLUMNS,
        rows=product_rows(queryset),
        filename=filename,
        hide_costs=hide_costs,
    )
