"""The first lock of every stock change: the products, in id order (core.db.lock_in_id_order).

A product's row lock guards all of its levels, lots, reservations and its average cost, so
concurrent changes neither oversell, lose updates nor deadlock; only then are its levels and
lots read and written."""

from collections.abc import Iterable

from core.db import lock_in_id_order
from inventory.models import Product


def lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock the products in id order (core.db.lock_in_id_order): the first lock of every stock
    change, so lockers never deadlock."""
    return lock_in_id_order(Product.objects, product_ids)
