"""The ONE place that changes Product.quantity.

Every change locks the affected products in id order (SELECT ... FOR NO KEY UPDATE, as Saleor's
`lock_objects.py` does), so concurrent requests neither oversell, lose updates nor deadlock,
and appends one StockMovement per change in the same transaction, so that
`Product.quantity == sum(StockMovement.delta)` holds at every commit.

`FOR NO KEY UPDATE` rather than `FOR UPDATE`: changing a quantity never changes a key, and this
lock does not conflict with the `FOR KEY SHARE` lock PostgreSQL takes when another transaction
inserts a row that refers to the product (an order line, a movement). A plain `FOR UPDATE` would
make "insert order lines in the client's order, then lock the products" deadlock against a
transaction that already holds one of those products.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone

from core.db import lock_in_id_order
from core.errors import BrokenRule
from core.fields import MAX_QUANTITY
from inventory.models import Product
from inventory.selectors import is_low_stock
from stock.models import LowStockEvent, StockMovement
from stock.signals import low_stock_changed

Type = StockMovement.MovementType
Source = StockMovement.Source


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product, e.g. an order line."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class Shortage:
    line: int  # position in the lines passed in (0-based)
    product_id: int
    sku: str
    requested: int
    available: int

    def __str__(self):
        return f"Line {self.line + 1} ({self.sku}): {self.numbers()}"

    def figures(self) -> str:
        return f"{self.sku}: {self.numbers()}"

    def numbers(self) -> str:
        return f"{self.requested} requested, {self.available} available."


class InsufficientStock(BrokenRule):
    """Taking the lines out would drive stock below zero; nothing was changed (400). An
    order's shortages name their lines; a single movement's only the product."""

    def __init__(self, shortages: list[Shortage], *, field: str | None = None, lines=True):
        self.shortages = shortages
        self.messages = [str(s) if lines else s.figures() for s in shortages]
        super().__init__("Insufficient stock: " + " ".join(self.messages), field=field)

    def as_data(self):
        return {self.field or "non_field_errors": self.messages}


class NotStockKeeping(BrokenRule):
    """The product has variations: its stock is kept by them (400)."""

    def __init__(self, product: Product, *, field: str = "product"):
        skus = list(
            product.variations.filter(is_archived=False)
            .order_by("sku")
            .values_list("sku", flat=True)[:20]
        )
        names = ", ".join(skus) if skus else "none"
        super().__init__(
            f"Product {product.sku} has variations and holds no stock itself; "
            f"use one of its variations: {names}.",
            field=field,
        )


class InvalidStockChange(BrokenRule):
    """A quantity that the ledger cannot record (negative, zero for IN/OUT, or too large)."""


def lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock the products in id order (core.db.lock_in_id_order): the first lock of every stock
    change, so lockers never deadlock."""
    return lock_in_id_order(Product.objects, product_ids)


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


def ensure_stock_keeping(*, product: Product, field: str = "product") -> None:
    """Only a live product without variations holds stock (and can be ordered or moved)."""
    if product.is_archived:
        raise InvalidStockChange(
            f"Product {product.sku} is archived: its stock cannot move.", field=field
        )
    if product.has_variations:
        raise NotStockKeeping(product, field=field)


@dataclass(frozen=True)
class _Change:
    product_id: int
    movement_type: str
    quantity: int


def _validate(change: _Change, field: str | None) -> None:
    minimum = 0 if change.movement_type == Type.ADJUST else 1
    if change.movement_type not in Type.values:
        raise InvalidStockChange(
            f"Unknown movement type {change.movement_type!r}.", field=field or "movement_type"
        )
    if not isinstance(change.quantity, int) or not minimum <= change.quantity <= MAX_QUANTITY:
        raise InvalidStockChange(
            f"Quantity must be an integer between {minimum} and {MAX_QUANTITY}.",
            field=field or "quantity",
        )


def _apply_changes(
    *,
    changes: list[_Change],
    source: str,
    reference: str | None,
    user,
    note: str = "",
    field: str | None = None,
    lines: bool = True,
) -> list[StockMovement]:
    """Apply all changes or none, appending one movement each, in one transaction."""
    for change in changes:
        _validate(change, field)
    with transaction.atomic():
        products = lock_products(change.product_id for change in changes)
        # A new product's opening stock is no crossing: it was never low "from above".
        was_low = {} if source == Source.INITIAL else low_stock_states(products.values())
        shortages: list[Shortage] = []
        movements: list[StockMovement] = []
        for position, change in enumerate(changes):
            product = products.get(change.product_id)
            if product is None:
                raise InvalidStockChange("Product does not exist.", field=field or "product")
            ensure_stock_keeping(product=product, field=field or "product")
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
            if product.quantity + delta > MAX_QUANTITY:
                raise InvalidStockChange(
                    f"{product.sku}: stock would exceed {MAX_QUANTITY}.", field=field or "quantity"
                )
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
            raise InsufficientStock(shortages, field=field, lines=lines)
        now = timezone.now()
        changed = list(products.values())
        for product in changed:
            product.updated_at = now
        Product.objects.bulk_update(changed, ["quantity", "updated_at"])
        created = StockMovement.objects.bulk_create(movements)
        record_low_stock_changes(was_low=was_low, products=changed)
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
        lines=False,
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
        field="items",
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
    """Set the quantity on hand (a product edit): one ADJUST movement, none if unchanged. A
    product with variations holds no stock itself (400 on `quantity`)."""
    with transaction.atomic():
        current = lock_products([product.pk]).get(product.pk)
        if current is not None and quantity and current.has_variations:
            raise NotStockKeeping(current, field="quantity")
        if current is not None and current.quantity == quantity:
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
