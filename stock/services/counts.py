"""Counted differences: what a stocktake found, applied to the stock there now.

A count records the books' quantity at that moment (its expected quantity); the difference
`counted - expected` is what the shelf held that the books did not. Applied as a difference
(not as the counted figure), a sale or a receipt between the count and its posting stays in the
books: nothing is lost (odoo/odoo#42997, OCA/stock-logistics-warehouse#2343).
"""

from collections.abc import Iterable
from dataclasses import dataclass

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
    # Products in id order first (the first lock of every stock change), streamed: a count of
    # 100,000 products reads no 100,000 rows into memory for it.
    for start in range(0, len(counted), 10_000):
        chunk = Product.objects.filter(pk__in=counted[start : start + 10_000])
        lock_all_in_id_order(chunk)
        chunk.update(last_counted_at=now)
    if not differences:
        return []
    books = Books.of([d.product_id for d in differences], entry=entry, field="lines")
    refused = []
    for difference in differences:
        product = books.products[difference.product_id]
        books.levels_at(product, location)  # the books' levels read (one query for all)
        lot = books.known_lot(difference.lot_id) if difference.lot_id else None
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
