"""The low-stock outbox (DESIGN rule 8): a change that flips a product's low-stock state writes
an event row in its own transaction, under the product's lock; the alerts hear about it after
commit (`stock.signals.low_stock_changed`) and stock knows no listener."""

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone

from inventory.models import Product
from inventory.selectors import is_low_stock
from stock.models import LowStockEvent
from stock.signals import low_stock_changed


def low_stock_states(products: Iterable[Product]) -> dict[int, bool]:
    """Whether each (locked) product is low right now, by id: the "before" of a change."""
    return {product.pk: is_low_stock(product) for product in products}


def record_low_stock_changes(*, was_low: dict[int, bool], products: Iterable[Product]) -> None:
    """Append an outbox event for every product whose low-stock state differs from `was_low`
    (products locked by the caller, in their state after the change); after commit, tell the
    listeners there is something to deliver. A product not in `was_low` is new: created low,
    it has not crossed its threshold "from above", so it records nothing."""
    now = timezone.now()
    events = [
        LowStockEvent(
            organization_id=product.organization_id,
            product_id=product.pk,
            kind=LowStockEvent.Kind.WENT_LOW if low else LowStockEvent.Kind.RECOVERED,
            quantity=product.quantity,
            low_stock_threshold=product.low_stock_threshold,
            created_at=now,
        )
        for product in products
        if product.pk in was_low and (low := is_low_stock(product)) != was_low[product.pk]
    ]
    if not events:
        return
    LowStockEvent.objects.bulk_create(events)
    transaction.on_commit(
        partial(
            low_stock_changed.send,
            sender=LowStockEvent,
            organization_ids=sorted({event.organization_id for event in events}),
        ),
        robust=True,  # a failing listener must not fail a committed stock change
    )
