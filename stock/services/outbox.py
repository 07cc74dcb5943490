"""What stock tells the outbox (`core.events`, DESIGN rule 8), in the change's transaction and
under the products' locks: `stock.changed` for every movement, `stock.low` and
`stock.recovered` when a product crosses its threshold. The alerts and the webhooks read them
after commit; stock knows neither."""

from collections.abc import Iterable

from core.events import emit_many, insert_with_events
from inventory.models import Product
from inventory.selectors import is_low_stock
from stock.models import StockMovement

WENT_LOW = "stock.low"
RECOVERED = "stock.recovered"
CHANGED = "stock.changed"


def low_stock_states(products: Iterable[Product]) -> dict[int, bool]:
    """Whether each (locked) product is low right now, by id: the "before" of a change."""
    return {product.pk: is_low_stock(product) for product in products}


def low_stock_event(product: Product, *, low: bool) -> tuple[int, str, dict]:
    return (
        product.organization_id,
        WENT_LOW if low else RECOVERED,
        {
            "product": product.pk,
            "sku": product.sku,
            "quantity": product.quantity,
            "available": product.quantity - product.allocated,
            "low_stock_threshold": product.low_stock_threshold,
        },
    )


def record_low_stock_changes(*, was_low: dict[int, bool], products: Iterable[Product]) -> None:
    """Write an event for every product whose low-stock state differs from `was_low`
    (products locked by the caller, in their state after the change). A product not in
    `was_low` is new: created low, it has not crossed its threshold "from above", so it
    records nothing."""
    emit_many(
        low_stock_event(product, low=low)
        for product in products
        if product.pk in was_low and (low := is_low_stock(product)) != was_low[product.pk]
    )


# `stock.changed`'s data, from the movement's row (core.events.insert_with_events): product,
# location, delta and the quantity after.
CHANGED_DATA = {
    "movement": "inserted.id",
    "product": "inserted.product_id",
    "sku": f"(SELECT sku FROM {Product._meta.db_table} WHERE id = inserted.product_id)",
    "location": "inserted.location_id",
    "movement_type": "inserted.movement_type",
    "delta": "inserted.delta",
    "quantity": "inserted.balance_after",
    "source": "inserted.source",
    "reference": "inserted.reference",
}


def insert_movements(movements: list[StockMovement]) -> list[StockMovement]:
    """Write new movements and one `stock.changed` event each (for a few, one statement)."""
    return insert_with_events(movements, type=CHANGED, data=CHANGED_DATA)
