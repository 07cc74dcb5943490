"""Reads of the stock ledger: movement lists and the ledger reconciliation."""

import datetime
from collections.abc import Iterator

from django.db.models import F, Max, Min, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from core.dates import within_utc_dates
from inventory.models import Product
from stock.models import StockMovement


def movements_with_details() -> QuerySet[StockMovement]:
    """Movements with what their representation needs, in a constant number of queries."""
    return StockMovement.objects.select_related("performed_by", "product")


def movements_between(
    queryset: QuerySet[StockMovement],
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[StockMovement]:
    """Movements created on UTC dates date_from..date_to, both inclusive (index-friendly range)."""
    return within_utc_dates(queryset, field="created_at", date_from=date_from, date_to=date_to)


def ledger_mismatches(
    *, organization_id: int | None = None, id_from: int | None = None, id_to: int | None = None
):
    """Products whose quantity differs from the sum of their movements' deltas, in SQL.

    Rows are dicts: id, organization_id, sku, quantity, ledger_quantity. `id_from`/`id_to`
    (inclusive) bound the product ids, so a big check can run in batches.
    """
    products = Product.objects.all()
    if organization_id is not None:
        products = products.filter(organization_id=organization_id)
    if id_from is not None:
        products = products.filter(pk__gte=id_from)
    if id_to is not None:
        products = products.filter(pk__lte=id_to)
    return (
        products.annotate(ledger_quantity=Coalesce(Sum("movements__delta"), Value(0)))
        .exclude(quantity=F("ledger_quantity"))
        .order_by("pk")
        .values("id", "organization_id", "sku", "quantity", "ledger_quantity")
    )


def ledger_mismatch_batches(
    *, organization_id: int | None = None, batch_size: int = 10_000
) -> Iterator[tuple[int, int, list[dict]]]:
    """Check the ledger in product-id batches: yields (last id checked, last id, mismatches)."""
    products = Product.objects.all()
    if organization_id is not None:
        products = products.filter(organization_id=organization_id)
    bounds = products.aggregate(first=Min("pk"), last=Max("pk"))
    if bounds["first"] is None:
        return
    start = bounds["first"]
    while start <= bounds["last"]:
        end = start + batch_size - 1
        rows = list(ledger_mismatches(organization_id=organization_id, id_from=start, id_to=end))
        yield min(end, bounds["last"]), bounds["last"], rows
        start = end + 1
