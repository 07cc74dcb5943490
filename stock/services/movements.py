"""Movements one at a time: a manual IN, OUT or ADJUST at a location, a new product's opening
stock, and a quantity set from a product edit."""

import datetime
import decimal

from django.db import transaction
from django.db.models import Q

from core.cache import figures_changed
from core.fields import MAX_QUANTITY
from inventory.models import Product
from stock.models import Location, StockLevel, StockMovement
from stock.services.books import Books, Entry
from stock.services.errors import (
    InsufficientStock,
    InvalidStockChange,
    NotStockKeeping,
    Shortage,
)
from stock.services.locations import default_location, usable_location
from stock.services.locks import lock_products
from stock.services.valuation import check_unit_cost
from users.models import User

Type = StockMovement.MovementType
Source = StockMovement.Source
TYPES = frozenset(Type.values)


def check_quantity(movement_type: str, quantity, field: str = "quantity") -> None:
    """A movement's quantity is an integer from 1 (0 for an ADJUST: a count) to MAX_QUANTITY."""
    minimum = 0 if movement_type == Type.ADJUST else 1
    if movement_type not in TYPES:
        raise InvalidStockChange(f"Unknown movement type {movement_type!r}.", field="movement_type")
    if not isinstance(quantity, int) or not minimum <= quantity <= MAX_QUANTITY:
        raise InvalidStockChange(
            f"Quantity must be an integer between {minimum} and {MAX_QUANTITY}.", field=field
        )


def _lot_for(books: Books, product: Product, movement_type: str, lot_code, expiration_date):
    """The lot a movement names: required for a lot-tracked IN or ADJUST, optional for an OUT
    (FEFO otherwise), refused for a product that keeps no lots."""
    if not product.track_lots:
        if lot_code:
            raise InvalidStockChange(f"{product.sku} does not track lots.", field="lot_code")
        if expiration_date is not None:
            raise InvalidStockChange(
                f"{product.sku} does not track lots: set its expiration_date on the product.",
                field="expiration_date",
            )
        return None
    if not lot_code:
        if movement_type == Type.OUT:
            return None
        raise InvalidStockChange(
            f"{product.sku} tracks lots: name the lot (lot_code).", field="lot_code"
        )
    return books.lot(
        product, lot_code, expiration_date=expiration_date, create=movement_type == Type.IN
    )


def record_movement(
    *,
    product: Product,
    movement_type: str,
    quantity: int,
    user: User | None,
    location: Location | None = None,
    lot_code: str | None = None,
    expiration_date: datetime.date | None = None,
    unit_cost: decimal.Decimal | None = None,
    note: str = "",
    source: str = Source.MANUAL,
    reference: str | None = None,
) -> StockMovement:
    """One movement at a location (the default one when none is named): IN adds (at
    `unit_cost`, which joins the average cost; without one, at the average), OUT takes what
    is available (never below zero, never what is reserved; FEFO for lots), ADJUST sets the
    counted quantity there (of that lot); both at the average cost."""
    check_quantity(movement_type, quantity)
    check_unit_cost(unit_cost)
    if unit_cost is not None and movement_type != Type.IN:
        raise InvalidStockChange(
            "Only an IN takes a unit cost; other movements are valued at the average cost.",
            field="unit_cost",
        )
    entry = Entry(source=source, reference=reference, user=user, note=note)
    with transaction.atomic():
        books = Books.of([product.pk], entry=entry)
        current = books.products[product.pk]
        location = usable_location(
            location, organization_id=current.organization_id, field="location"
        )
        lot = _lot_for(books, current, movement_type, lot_code, expiration_date)
        if movement_type == Type.IN:
            books.put(current, location, [(lot, quantity)], unit_cost=unit_cost)
        elif movement_type == Type.OUT:
            _, short = books.take(current, location, quantity, lot=lot)
            if short:
                raise InsufficientStock(
                    [Shortage(0, current.pk, current.sku, quantity, *short)],
                    field="quantity",
                    lines=False,
                )
        else:
            books.count(current, location, quantity, lot=lot)
        (movement,) = books.close()
    product.quantity = movement.balance_after
    product.average_cost = current.average_cost
    return movement


def record_initial_stock(
    *, product: Product, quantity: int, user: User | None
) -> StockMovement | None:
    """A new product's opening quantity is one IN movement (`initial`) at the default
    location, valued at its `cost_price` (0 when none); a lot-tracked product's first stock
    needs a movement naming its lot. Without opening stock, its average cost starts at the
    `cost_price`: what a first IN without a cost is valued at."""
    if quantity <= 0:
        if product.cost_price:
            Product.objects.filter(pk=product.pk).update(average_cost=product.cost_price)
            product.average_cost = product.cost_price
            figures_changed(product.organization_id)
        return None
    refuse_lot_tracked_opening(product)
    with transaction.atomic():
        books = Books.of([product.pk], entry=Entry(source=Source.INITIAL, user=user))
        books.was_low = {}  # a new product's opening stock is no crossing from above
        current = books.products[product.pk]
        location = default_location(organization_id=current.organization_id)
        opening = current.cost_price or decimal.Decimal(0)
        books.put(current, location, [(None, quantity)], unit_cost=opening)
        (movement,) = books.close()
    product.quantity = movement.balance_after
    product.average_cost = current.average_cost
    return movement


def refuse_lot_tracked_opening(product: Product) -> None:
    """A lot-tracked product's first stock needs a movement naming its lot, not opening stock."""
    if product.track_lots:
        raise InvalidStockChange(
            f"{product.sku} tracks lots: record its opening stock with an IN movement that "
            "names the lot (lot_code).",
            field="quantity",
        )


def record_opening_stock(
    *,
    stock: list[tuple[Product, int]],
    user: User | None,
    location: Location | None = None,
    source: str = Source.IMPORT,
    reference: str | None = None,
) -> list[StockMovement]:
    """Opening stock of products this transaction has just created (an import), many at once:
    one IN each (`source`) at the location (the default one when none), valued at its
    `cost_price` (0 when none), written in a few statements by one set of books (nothing to
    lock: no other transaction sees the products yet). A lot-tracked product's first stock
    needs a movement naming its lot; a quantity of 0 records nothing."""
    with transaction.atomic():
        return opening_stock(stock=stock, user=user, location=location, source=source,
                             reference=reference).close()  # fmt: skip


def opening_stock(
    *,
    stock: list[tuple[Product, int]],
    user: User | None,
    location: Location | None = None,
    source: str = Source.IMPORT,
    reference: str | None = None,
    unwritten: bool = False,
) -> Books:
    """`record_opening_stock`'s books, their INs put, not closed yet. `unwritten`: the products
    are numbered, not written (`Books.of_new`): their creator writes them with the quantity
    and average cost these books give them, then closes the books."""
    stock = [(product, quantity) for product, quantity in stock if quantity]
    for product, quantity in stock:
        check_quantity(Type.IN, quantity)
        refuse_lot_tracked_opening(product)
    entry = Entry(source=source, reference=reference, user=user)
    books = Books.of_new([product for product, _ in stock], entry=entry, unwritten=unwritten)
    if stock:
        organization_id = stock[0][0].organization_id
        location = usable_location(location, organization_id=organization_id, field="location")
    for product, quantity in stock:
        opening = product.cost_price or decimal.Decimal(0)
        books.put(product, location, [(None, quantity)], unit_cost=opening)
    return books


def set_stock_level(
    *,
    product: Product,
    quantity: int,
    user: User | None,
    source: str = Source.PRODUCT_EDIT,
    note: str = "",
) -> StockMovement | None:
    """Set the quantity on hand from a product edit: one ADJUST movement (none if unchanged),
    only while all of its stock is in one location (or none: the default location) and it
    keeps no lots; otherwise the 400 says to record a movement at a location. A product with
    variations holds no stock itself."""
    with transaction.atomic():
        current = lock_products([product.pk]).get(product.pk)
        if current is not None and quantity and current.has_variations:
            raise NotStockKeeping(current, field="quantity")
        if current is None or current.quantity == quantity:
            product.quantity = quantity
            return None
        if current.track_lots:
            raise InvalidStockChange(
                f"{current.sku} tracks lots: record a movement (ADJUST) of a lot at a location.",
                field="quantity",
            )
        places = set(
            StockLevel.objects.filter(product_id=current.pk)
            .filter(Q(quantity__gt=0) | Q(allocated__gt=0))
            .values_list("location_id", flat=True)
        )
        if len(places) > 1:
            raise InvalidStockChange(
                f"{current.sku} is kept in {len(places)} locations: record a movement "
                "(ADJUST) at a location instead.",
                field="quantity",
            )
        location = (
            Location.objects.get(pk=places.pop())
            if places
            else default_location(organization_id=current.organization_id)
        )
        return record_movement(
            product=product,
            movement_type=Type.ADJUST,
            quantity=quantity,
            user=user,
            location=location,
            source=source,
            note=note,
        )
