"""Counted differences: what a stocktake found, applied to the stock there now.

A count records the books' quantity at that moment (its expected quantity); the difference
`counted - expected` is what the shelf held that the books did not. Applied as a difference
(not as the counted figure), a sale or a receipt between the count and its posting stays in the
books: nothing is lost (odoo/odoo#42997, OCA/stock-logistics-warehouse#2343).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone

from core.db import lock_all_in_id_order
from core.errors import BrokenRule
from inventory.models import Product
from stock.models import Location, StockMovement
from stock.services.books import Books, Entry


@dataclass(frozen=True)
class CountedDifference:
    """One counted line's difference: `label` names the line in a refusal."""

    label: str
    product_id: int
    lot_id: int | None
    delta: int


def apply_counted_differences(
    *,
    location: Location,
    differences: Iterable[CountedDifference],
    counted_product_ids: Iterable[int],
    entry: Entry,
) -> list[StockMovement]:
    """Apply every counted difference to the stock at the location now: one ADJUST each (delta
    the difference, at the average cost, which a count never moves), all or nothing: a line
    that would take stock below zero or below what is reserved there is a 400 naming the lines.
    Every counted product gets `last_counted_at`. Call it inside the caller's transaction."""
    differences = [d for d in differences if d.delta]
    now = timezone.now()
    counted = sorted(set(counted_product_ids) | {d.product_id for d in differences})
    _mark_counted(counted, now)
    if not differences:
        return []
    books = Books.of([d.product_id for d in differences], entry=entry, field="lines")
    refused = []
    for difference in differences:
        product = books.products[difference.product_id]
        lot = books.lot_of(product, difference.lot_id) if difference.lot_id else None
        level = books.adjust(product, location, difference.delta, lot=lot)
        if level.quantity < 0 or level.quantity < level.allocated:
            there = level.quantity - difference.delta
            refused.append(
                f"{difference.label} ({product.sku}{f' lot {lot.code}' if lot else ''}): "
                f"{difference.delta:+d} counted against {there} there now, "
                f"{level.allocated} reserved."
            )
    if refused:
        raise BrokenRule(refused, field="lines")
    return books.close()


def _mark_counted(product_ids: list[int], now) -> None:
    """Lock the counted products in id order (the first lock of every stock change) and set
    their `last_counted_at`: on PostgreSQL one statement from an array of ids (no 100,000
    placeholders, no ids streamed back), elsewhere in chunks."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Product._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS p SET last_counted_at = %s FROM (SELECT id FROM {table} "
                "WHERE id = ANY(%s::bigint[]) ORDER BY id FOR NO KEY UPDATE) AS locked "
                "WHERE p.id = locked.id",
                [now, product_ids],
            )
        return
    for start in range(0, len(product_ids), 10_000):
        chunk = Product.objects.filter(pk__in=product_ids[start : start + 10_000])
        lock_all_in_id_order(chunk)
        chunk.update(last_counted_at=now)


def variance_value(*, organization_id: int, reference: str):
    """What a posted count's differences are worth at the average cost (summed by the database
    from its ADJUST movements)."""
    movements = StockMovement.objects.filter(
        organization_id=organization_id,
        source=StockMovement.Source.STOCKTAKE,
        reference=reference,
    )
    value = ExpressionWrapper(
        F("delta") * F("unit_cost"), output_field=DecimalField(max_digits=20, decimal_places=4)
    )
    return movements.aggregate(total=Sum(value))["total"]
