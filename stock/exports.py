"""Streamed CSV of the stock ledger: rows go out as they are read, never built in memory."""

import datetime
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice

from django.db.models import F, QuerySet

from core.exports import Column, csv_download
from stock.models import MovementLot, StockLevel, StockMovement

# The list's fields in its order, the product's SKU and name beside its id; `lots` as text.
MOVEMENT_COLUMNS = [
    Column("id", "id"),
    Column("product", "product_id"),
    Column("sku", "product__sku"),
    Column("product_name", "product__name"),
    Column("location", "location_id"),
    Column("location_name", "location__name"),
    Column("movement_type", "movement_type"),
    Column("quantity", "quantity"),
    Column("unit_cost", "unit_cost", places=4, cost=True),
    Column("lots", "id"),  # filled in per chunk: "L-7:-3; L-9:-2"
    Column("delta", "delta"),
    Column("balance_after", "balance_after"),
    Column("note", "note"),
    Column("source", "source"),
    Column("reference", "reference"),
    Column("performed_by", "performed_by__username"),
    Column("created_at", "created_at"),
]
LOTS = [column.header for column in MOVEMENT_COLUMNS].index("lots")
CHUNK_SIZE = 2000


def movement_rows(queryset: QuerySet[StockMovement]) -> Iterator[tuple]:
    """The export's rows, read from the database in chunks (a server-side cursor on Postgres),
    with one query for the lot lines of each chunk."""
    rows = queryset.values_list(*(column.expression for column in MOVEMENT_COLUMNS)).iterator(
        chunk_size=CHUNK_SIZE
    )
    while chunk := list(islice(rows, CHUNK_SIZE)):
        lots = defaultdict(list)
        lines = MovementLot.objects.filter(movement_id__in=[row[LOTS] for row in chunk])
        for movement_id, code, delta in lines.order_by("id").values_list(
            "movement_id", "lot__code", "delta"
        ):
            lots[movement_id].append(f"{code}:{delta:+d}")
        for row in chunk:
            yield (*row[:LOTS], "; ".join(lots[row[LOTS]]), *row[LOTS + 1 :])


def movements_csv_response(
    queryset: QuerySet[StockMovement], *, today: datetime.date, hide_costs: bool = False
):
    """A `stock-movements-YYYY-MM-DD.csv` download (the organization's `today`) of the
    (filtered, ordered) movements."""
    return csv_download(
        columns=MOVEMENT_COLUMNS,
        rows=movement_rows(queryset),
        filename=f"stock-movements-{today}.csv",
        hide_costs=hide_costs,
    )


# The stock levels list's fields, in its order.
LEVEL_COLUMNS = [
    Column("product", "product_id"),
    Column("sku", "product__sku"),
    Column("product_name", "product__name"),
    Column("location", "location_id"),
    Column("location_name", "location__name"),
    Column("lot", "lot_id"),
    Column("lot_code", "lot__code"),
    Column("expiration_date", "lot__expiration_date"),
    Column("quantity", "quantity"),
    Column("allocated", "allocated"),
    Column("available", "units_available"),
]


def levels_csv_response(queryset: QuerySet[StockLevel], *, today: datetime.date):
    """A `stock-levels-YYYY-MM-DD.csv` download (the organization's `today`) of the (filtered,
    ordered) levels."""
    rows = queryset.annotate(units_available=F("quantity") - F("allocated")).values_list(
        *(column.expression for column in LEVEL_COLUMNS)
    )
    return csv_download(
        columns=LEVEL_COLUMNS,
        rows=rows.iterator(chunk_size=CHUNK_SIZE),
        filename=f"stock-levels-{today}.csv",
    )
