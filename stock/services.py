"""The ONE place that changes Product.quantity.

Every change locks the affected products in id order (SELECT ... FOR UPDATE, as Saleor's
`lock_objects.py` does), so concurrent requests neither oversell, lose updates nor deadlock,
and appends one StockMovement per change in the same transaction, so that
`Product.quantity == sum(StockMovement.delta)` holds at every commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone

from config.errors import DomainError
from inventory.models import Product
from stock.models import StockMovement
from stock.signals import stock_changed

Type = StockMovement.MovementType
Source = StockMovement.Source


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product, e.g. an order line."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class Shortage:
    line: int  # position in the lines passed in
    product_id: int
    sku: str
    requested: int
    available: int

    def __str__(self):
        return (
            f"{self.sku}: {self.requested} requested, {self.available} available"
            if self.available >= 0
            else f"{self.sku}: not a stock-keeping product"
        )


class InsufficientStock(DomainError):
    """Taking the lines out would drive stock below zero; nothing was changed (400)."""

    def __init__(self, shortages: list[Shortage], *, field: str | None = None):
        self.shortages = shortages
        super().__init__("Insufficient stock: " + "; ".join(str(s) for s in shortages), field=field)


class NotStockKeeping(DomainError):
    """The product has variations: its stock is kept by them (400)."""

    def __init__(self, product: Product, *, field: str = "product"):
        super().__init__(
            f"Product {product.sku} has variations and holds no stock itself; "
            "use one of its variations.",
            field=field,
        )


def lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """SELECT ... FOR UPDATE the products, in id order so that lockers never deadlock."""
    ids = sorted(set(product_ids))
    products = Product.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {product.pk: product for product in products}


@dataclass(frozen=True)
class _Change:
    product_id: int
    movement_type: str
    quantity: int


def _apply_changes(
    *,
    changes: list[_Change],
    source: str,
    reference: str | None,
    user,
    note: str = "",
    field: str | None = None,
) -> list[StockMovement]:
    """Apply all changes or none, appending one movement each, in one transaction."""
    with transaction.atomic():
        products = lock_products(change.product_id for change in changes)
        shortages: list[Shortage] = []
        movements: list[StockMovement] = []
        for position, change in enumerate(changes):
            product = products[change.product_id]
            if product.has_variations:
                raise NotStockKeeping(product, field=field or "product")
            if change.movement_type == Type.IN:
                delta = change.quantity
            elif change.movement_type == Type.OUT:
                delta = -change.quantity
                if change.quantity > product.quantity:
                    shortages.append(
                        Shortage(
                            line=position,
                            product_id=product.pk,
                            sku=product.sku,
                            requested=change.quantity,
                            available=product.quantity,
                        )
                    )
                    continue
            else:  # ADJUST: a stocktake sets the counted quantity
                delta = change.quantity - product.quantity
            product.quantity += delta
            movements.append(
                StockMovement(
                    organization_id=product.organization_id,
                    product=product,
                    movement_type=change.movement_type,
                    quantity=change.quantity,
                    delta=delta,
                    balance_after=product.quantity,
                    note=note,
                    source=source,
                    reference=reference,
                    performed_by=user if getattr(user, "pk", None) else None,
                )
            )
        if shortages:
            raise InsufficientStock(shortages, field=field)
        now = timezone.now()
        changed = list(products.values())
        for product in changed:
            product.updated_at = now
        Product.objects.bulk_update(changed, ["quantity", "updated_at"])
        created = StockMovement.objects.bulk_create(movements)
        for organization_id in {product.organization_id for product in changed}:
            transaction.on_commit(
                partial(
                    stock_changed.send,
                    sender=StockMovement,
                    organization_id=organization_id,
                    product_ids=[p.pk for p in changed if p.organization_id == organization_id],
                )
            )
    return created


def record_movement(
    *,
    product: Product,
    movement_type: str,
    quantity: int,
    user,
    note: str = "",
    source: str = Source.MANUAL,
    reference: str | None = None,
) -> StockMovement:
    """Append one movement: IN adds, OUT takes (never below zero), ADJUST sets the count."""
    (movement,) = _apply_changes(
        changes=[_Change(product.pk, movement_type, quantity)],
        source=source,
        reference=reference,
        user=user,
        note=note,
        field="quantity" if movement_type == Type.OUT else None,
    )
    product.quantity = movement.balance_after
    return movement


def add_to_stock(
    *, lines: list[StockLine], source: str, reference: str | None, user, note: str = ""
) -> list[StockMovement]:
    """One IN movement per line, all in one transaction (e.g. receiving a purchase order)."""
    return _apply_changes(
        changes=[_Change(line.product_id, Type.IN, line.quantity) for line in lines],
        source=source,
        reference=reference,
        user=user,
        note=note,
    )


def take_out_of_stock(
    *,
    lines: list[StockLine],
    source: str,
    reference: str | None,
    user,
    note: str = "",
    field: str | None = "items",
) -> list[StockMovement]:
    """One OUT movement per line, all or none: any short line raises InsufficientStock."""
    return _apply_changes(
        changes=[_Change(line.product_id, Type.OUT, line.quantity) for line in lines],
        source=source,
        reference=reference,
        user=user,
        note=note,
        field=field,
    )


def record_initial_stock(*, product: Product, quantity: int, user) -> StockMovement | None:
    """A new product's opening quantity is one IN movement with source `initial`."""
    if quantity <= 0:
        return None
    return record_movement(
        product=product, movement_type=Type.IN, quantity=quantity, user=user, source=Source.INITIAL
    )


def set_stock_level(
    *, product: Product, quantity: int, user, source: str = Source.PRODUCT_EDIT, note: str = ""
) -> StockMovement | None:
    """Set the quantity on hand (a product edit): one ADJUST movement, none if unchanged."""
    with transaction.atomic():
        current = lock_products([product.pk])[product.pk]
        if current.quantity == quantity:
            product.quantity = quantity
            return None
        return record_movement(
            product=product,
            movement_type=Type.ADJUST,
            quantity=quantity,
            user=user,
            source=source,
            note=note,
        )
