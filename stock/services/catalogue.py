"""Catalogue changes with stock consequences (the catalogue knows no stock: DESIGN.md)."""

from collections.abc import Iterable
from contextlib import contextmanager

from inventory.models import Product
from stock.services.locks import lock_products
from stock.services.outbox import low_stock_states, record_low_stock_changes


@contextmanager
def low_stock_watch(*, products: Iterable[Product]):
    """Around a catalogue change to these products (a threshold edit, variations added or
    removed, archiving, restoring): lock them with their parents and variations (id order, as
    every stock change locks them), then record in the outbox every product whose low-stock
    state the change flipped. Use it inside the change's transaction."""
    ids = set()
    for product in products:
        ids |= {product.pk, product.parent_id} - {None}
    ids |= set(Product.objects.filter(parent_id__in=ids).values_list("pk", flat=True))
    was_low = low_stock_states(lock_products(ids).values())
    yield
    record_low_stock_changes(was_low=was_low, products=Product.objects.filter(pk__in=was_low))
