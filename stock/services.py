"""The ONE place that changes stock: product totals, levels (product × location × lot), lots.

Every change locks the affected products first, in id order (SELECT ... FOR NO KEY UPDATE,
core.db.lock_in_id_order): a product's row lock guards all of its levels, lots, reservations
and its average cost, so concurrent requests neither oversell, lose updates nor deadlock. Only
then are its levels and lots read and written. Each change appends one StockMovement (with its
lot lines) in the same transaction, so at every commit:

- a product's quantity == the sum of its movements' deltas == the sum of its levels;
- per product and location, the sum of the deltas there == the stock there;
- per lot, its quantity == the sum of its lot lines' deltas == the sum of its levels.

`check_stock_ledger` verifies the three. Takes see only what is available (on hand less what
confirmed orders reserve); lot-tracked stock is picked by FEFO, never from expired lots.

Valuation (API.md): a product's `average_cost` is the moving average of what its stock on hand
cost. An IN that brings stock at a unit cost (a receipt, a manual IN with a cost, opening stock
at `cost_price`, a customer return at the sale's cost) sets it to
`(on_hand * average + quantity * unit_cost) / (on_hand + quantity)`, 4 places, half-even; every
other movement leaves it as it is and records it as its `unit_cost`. Being written under the
product's lock with the quantity, it never loses an update.
"""

import datetime
import decimal
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Min, ProtectedError, Q, Sum
from django.utils import timezone

from core.cache import figures_changed
from core.dates import local_today
from core.db import (
    foreign_keys_checked_at_once,
    lock_in_id_order,
    lock_row,
    update_under_lock,
    write_columns,
)
from core.errors import BrokenRule, Conflict, NotFound
from core.fields import MAX_QUANTITY, as_cost
from core.numbering import next_number
from inventory.models import Product
from inventory.selectors import is_low_stock
from stock.models import (
    Location,
    Lot,
    LowStockEvent,
    MovementLot,
    StockLevel,
    StockMovement,
    Transfer,
)
from stock.signals import low_stock_changed

Type = StockMovement.MovementType
Source = StockMovement.Source
DEFAULT_LOCATION_NAME = "Main"


# --- Errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortage:
    line: int  # position in the lines passed in (0-based)
    product_id: int
    sku: str
    requested: int
    available: int
    expired: int = 0  # units there that are expired: never picked by the server

    def __str__(self):
        return f"Line {self.line + 1} ({self.sku}): {self.numbers()}"

    def figures(self) -> str:
        return f"{self.sku}: {self.numbers()}"

    def numbers(self) -> str:
        text = f"{self.requested} requested, {self.available} available."
        if self.expired:
            text += f" {self.expired} more are there but expired."
        return text


class InsufficientStock(BrokenRule):
    """Taking the lines out would take more than is available; nothing was changed (400). An
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
    """A change the ledger cannot record (a bad quantity, a lot where none is kept, ...)."""


# --- Locking and the low-stock outbox ---------------------------------------------------------


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


# --- Locations --------------------------------------------------------------------------------


def default_location(*, organization_id: int) -> Location:
    """The organization's default location; `Main` is made for an organization that has none
    (registration makes it; organizations made another way get it on first use)."""
    location = Location.objects.filter(organization_id=organization_id, is_default=True).first()
    if location is not None:
        return location
    try:
        with transaction.atomic():
            return Location.objects.create(
                organization_id=organization_id, name=DEFAULT_LOCATION_NAME, is_default=True
            )
    except IntegrityError:  # made meanwhile (or `Main` is taken by a non-default location)
        location = Location.objects.filter(organization_id=organization_id, is_default=True)
        return location.first() or Location.objects.get(
            organization_id=organization_id, name__iexact=DEFAULT_LOCATION_NAME
        )


def _location_name_error(location: Location) -> BrokenRule | None:
    for field_name, lookup in (("name", "name__iexact"), ("code", "code")):
        value = getattr(location, field_name)
        taken = (
            value
            and Location.objects.filter(organization_id=location.organization_id, **{lookup: value})
            .exclude(pk=location.pk)
            .exists()
        )
        if taken:
            return BrokenRule(
                f"A location with this {field_name} already exists.", field=field_name
            )
    return None


def _save_location(location: Location, *, update_fields=None) -> Location:
    try:
        with transaction.atomic():
            if location.is_default:  # exactly one default: this one takes it over
                Location.objects.filter(
                    organization_id=location.organization_id, is_default=True
                ).exclude(pk=location.pk).update(is_default=False, updated_at=timezone.now())
            location.save(update_fields=update_fields)
    except IntegrityError:
        if error := _location_name_error(location):
            raise error from None
        raise
    return location


def _lock_locations(organization_id: int) -> None:
    """Location edits of one organization queue here (the default moves between them)."""
    lock_in_id_order(Location.objects.filter(organization_id=organization_id))


def create_location(
    *, organization, name: str, code: str | None = None, address: str = "", is_default=False
) -> Location:
    """A new place to keep stock; names (case-insensitively) and codes are unique."""
    with transaction.atomic():
        _lock_locations(organization.pk)
        location = Location(
            organization=organization,
            name=name,
            code=code or None,
            address=address,
            is_default=is_default,
        )
        return _save_location(location)


def update_location(*, location: Location, **changes) -> Location:
    """Rename, recode or readdress a location, or make it the default (the old default stops
    being one). The default cannot stop being the default except by another taking over."""
    with transaction.atomic():
        _lock_locations(location.organization_id)
        current = lock_row(Location.objects, location.pk)
        if current is None or current.is_archived:
            raise NotFound("The location no longer exists.")
        if changes.get("is_default") is False and current.is_default:
            raise BrokenRule("Make another location the default instead.", field="is_default")
        if "code" in changes:
            changes["code"] = changes["code"] or None
        return update_under_lock(
            current, changes, save=_save_location, gone="The location no longer exists."
        )


def delete_location(*, location: Location) -> None:
    """The default location, or one holding or promising stock, stays (409); one with history
    (levels, movements, orders or transfers refer to it) is archived and refuses new stock; one
    without history is removed."""
    with transaction.atomic():
        _lock_locations(location.organization_id)
        current = lock_row(Location.objects, location.pk)
        if current is None or current.is_archived:
            raise NotFound("The location no longer exists.")
        if current.is_default:
            raise Conflict("The default location cannot be deleted; make another the default.")
        units = current.levels.aggregate(units=Sum("quantity"), promised=Sum("allocated"))
        if units["units"] or units["promised"]:
            raise Conflict(
                f"{current.name} still holds {units['units'] or 0} unit(s); transfer them or "
                "write them off first."
            )
        try:
            with foreign_keys_checked_at_once():
                current.delete()
        except (ProtectedError, IntegrityError):
            Location.objects.filter(pk=current.pk).update(
                is_archived=True, updated_at=timezone.now()
            )


def _usable_location(location: Location | None, *, organization_id: int, field: str) -> Location:
    if location is None:
        return default_location(organization_id=organization_id)
    if location.organization_id != organization_id:
        raise InvalidStockChange("The location is another organization's.", field=field)
    if location.is_archived:
        raise InvalidStockChange(f"Location {location.name} is archived.", field=field)
    return location


# --- Lots --------------------------------------------------------------------------------------


def update_lot(*, lot: Lot, expiration_date: datetime.date | None) -> Lot:
    """Correct a lot's expiry (its product's earliest expiry follows)."""
    with transaction.atomic():
        lock_products([lot.product_id])
        current = lock_row(Lot.objects, lot.pk)
        if current is None:
            raise NotFound("The lot no longer exists.")
        current.expiration_date = expiration_date
        current.save(update_fields=["expiration_date"])
        _refresh_earliest_expiry([current.product_id])
        figures_changed(current.organization_id)
    return current


def _refresh_earliest_expiry(product_ids: Iterable[int]) -> None:
    """A lot-tracked product's expiry is the earliest among its lots that hold stock."""
    for product_id in product_ids:
        earliest = Lot.objects.filter(product_id=product_id, quantity__gt=0).aggregate(
            earliest=Min("expiration_date")
        )["earliest"]
        Product.objects.filter(pk=product_id, track_lots=True).update(expiration_date=earliest)


# --- The books: one transaction's work on locked products -------------------------------------


@dataclass
class _Take:
    """What a take took: (level, units) pairs."""

    parts: list[tuple[StockLevel, int]] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(units for _, units in self.parts)


class Books:
    """The stock of locked products, read once and written back at the end: the levels, lots
    and movements of one transaction. Open it with `Books.of(product_ids)` inside an atomic
    block; every change goes through its methods; `close()` writes everything in a few
    statements and records the low-stock changes."""

    def __init__(self, products: dict[int, Product]):
        self.products = products
        self.was_low = low_stock_states(products.values())
        self._today: dict[int, datetime.date] = {}
        self._levels: dict[tuple[int, int, int | None], StockLevel] = {}
        self._loaded: set[int] = set()
        self._lots: dict[int, Lot] = {}
        self._changed_levels: set[tuple[int, int, int | None]] = set()
        self._changed_lots: set[int] = set()
        self._movements: list[tuple[StockMovement, list[tuple[Lot, int]]]] = []

    @classmethod
    def of(cls, product_ids: Iterable[int], *, field: str | None = None) -> "Books":
        ids = sorted(set(product_ids))
        products = lock_products(ids)
        for pk in ids:
            if pk not in products:
                raise InvalidStockChange("Product does not exist.", field=field or "product")
            ensure_stock_keeping(product=products[pk], field=field or "product")
        return cls(products)

    # -- reading

    def _load(self, product_id: int) -> None:
        """Read the levels of every product in the books at the first need: one query, after
        the product locks (joined into the locking SELECT, they would be read as they were
        before the wait for the lock: PostgreSQL re-reads only the locked rows)."""
        if product_id in self._loaded:
            return
        pending = set(self.products) - self._loaded
        self._loaded |= pending
        levels = StockLevel.objects.filter(product_id__in=pending)
        if any(self.products[pk].track_lots for pk in pending):
            levels = levels.select_related("lot")
        for level in levels:
            self._levels[(level.product_id, level.location_id, level.lot_id)] = level
            if level.lot_id is not None and self.products[level.product_id].track_lots:
                level.lot = self._lots.setdefault(level.lot_id, level.lot)  # one instance each

    def level(self, product: Product, location: Location, lot: Lot | None) -> StockLevel:
        self._load(product.pk)
        key = (product.pk, location.pk, lot.pk if lot else None)
        if key not in self._levels:
            self._levels[key] = StockLevel(
                organization_id=product.organization_id,
                product_id=product.pk,
                location_id=location.pk,
                lot=lot,
                quantity=0,
                allocated=0,
            )
        return self._levels[key]

    def levels_at(self, product: Product, location: Location) -> list[StockLevel]:
        self._load(product.pk)
        return [
            level
            for (product_id, location_id, _), level in self._levels.items()
            if product_id == product.pk and location_id == location.pk
        ]

    def lot(
        self, product: Product, code: str, *, expiration_date=None, create=False, field="lot_code"
    ):
        """The product's lot of this code (case-insensitive); a new one when `create`."""
        self._load(product.pk)
        code = (code or "").strip()
        found = Lot.objects.filter(product_id=product.pk, code__iexact=code).first()
        if found is None:
            if not create:
                raise InvalidStockChange(f"{product.sku} has no lot {code}.", field=field)
            found = Lot.objects.create(
                organization_id=product.organization_id,
                product_id=product.pk,
                code=code,
                expiration_date=expiration_date,
            )
        found = self._lots.setdefault(found.pk, found)  # one instance per lot in the books
        if (
            expiration_date is not None
            and found.expiration_date is not None
            and expiration_date != found.expiration_date
        ):
            raise InvalidStockChange(
                f"Lot {found.code} of {product.sku} expires on {found.expiration_date}.",
                field="expiration_date",
            )
        elif expiration_date is not None and found.expiration_date is None:
            found.expiration_date = expiration_date
            self._changed_lots.add(found.pk)
        return found

    def today(self, organization_id: int) -> datetime.date:
        """The organization's today (its local date), read once per transaction."""
        if organization_id not in self._today:
            self._today[organization_id] = local_today(organization_id)
        return self._today[organization_id]

    def is_expired(self, lot: Lot | None) -> bool:
        return (
            lot is not None
            and lot.expiration_date is not None
            and (lot.expiration_date <= self.today(lot.organization_id))
        )

    def fefo(self, levels: list[StockLevel]) -> list[StockLevel]:
        """Unexpired lots first by earliest expiry (no expiry last), oldest lot among equals."""
        far = datetime.date.max
        usable = [level for level in levels if not self.is_expired(level.lot)]
        return sorted(
            usable,
            key=lambda level: (
                (level.lot.expiration_date or far) if level.lot else far,
                level.lot_id or 0,
            ),
        )

    # -- changing

    def _change(self, level: StockLevel, delta: int) -> None:
        product = self.products[level.product_id]
        if product.quantity + delta > MAX_QUANTITY:
            raise InvalidStockChange(
                f"{product.sku}: stock would exceed {MAX_QUANTITY}.", field="quantity"
            )
        level.quantity += delta
        product.quantity += delta
        key = (level.product_id, level.location_id, level.lot_id)
        self._changed_levels.add(key)
        if level.lot is not None:
            level.lot.quantity += delta
            self._changed_lots.add(level.lot_id)

    def _pick(self, product: Product, location: Location, quantity: int, lot: Lot | None, apply):
        """Pick available units (on hand less reserved) at the location: from the named lot, or
        by FEFO for a lot-tracked product; `apply(level, units)` each part. Returns the parts,
        or, when short, nothing and the figures (available, expired there)."""
        if lot is not None or not product.track_lots:
            candidates = [self.level(product, location, lot)]
        else:
            candidates = self.fefo(self.levels_at(product, location))
        available = sum(level.available for level in candidates)
        if available < quantity:
            expired = 0
            if product.track_lots and lot is None:
                expired = sum(
                    level.available
                    for level in self.levels_at(product, location)
                    if self.is_expired(level.lot)
                )
            return None, (available, expired)
        picked = _Take()
        remaining = quantity
        for level in candidates:
            units = min(level.available, remaining)
            if units:
                apply(level, units)
                picked.parts.append((level, units))
                remaining -= units
            if not remaining:
                break
        return picked, None

    def take(self, product: Product, location: Location, quantity: int, *, lot: Lot | None = None):
        """Take available units out of stock (see `_pick`)."""
        return self._pick(
            product, location, quantity, lot, lambda level, units: self._change(level, -units)
        )

    def reserve(self, product: Product, location: Location, quantity: int):
        """Promise available units (FEFO for a lot-tracked product) without moving them:
        `allocated` grows (see `_pick`)."""
        return self._pick(product, location, quantity, None, self._allocate)

    def known_lot(self, lot_id: int) -> Lot:
        """The lot of this id, one instance in the books (read at the first need)."""
        if lot_id not in self._lots:
            self._lots[lot_id] = Lot.objects.get(pk=lot_id)
        return self._lots[lot_id]

    def held_level(self, product: Product, level_id: int) -> StockLevel:
        """The product's level with this id (one a reservation holds)."""
        self._load(product.pk)
        for (product_id, _, _), level in self._levels.items():
            if product_id == product.pk and level.pk == level_id:
                return level
        raise InvalidStockChange(f"{product.sku}: the reserved stock is gone.", field="items")

    def _allocate(self, level: StockLevel, units: int) -> None:
        """Reserve (units > 0) or release (units < 0) units of a level."""
        level.allocated += units
        self.products[level.product_id].allocated += units
        self._changed_levels.add((level.product_id, level.location_id, level.lot_id))

    def release(self, level: StockLevel, units: int) -> None:
        self._allocate(level, -units)

    def take_reserved(self, level: StockLevel, units: int) -> None:
        """Take units that a reservation holds: they leave `allocated` and the stock."""
        self._allocate(level, -units)
        self._change(level, -units)

    def put(self, product: Product, location: Location, quantity: int, *, lot: Lot | None):
        level = self.level(product, location, lot)
        self._change(level, quantity)
        return level

    def count(self, product: Product, location: Location, counted: int, *, lot: Lot | None):
        """A stocktake: the counted quantity there; never below what is reserved there."""
        level = self.level(product, location, lot)
        if counted < level.allocated:
            raise InvalidStockChange(
                f"{product.sku}: {level.allocated} unit(s) are reserved there; "
                f"a count of {counted} is below that.",
                field="quantity",
            )
        delta = counted - level.quantity
        self._change(level, delta)
        return level, delta

    def record(
        self,
        *,
        product: Product,
        location: Location,
        movement_type: str,
        quantity: int,
        delta: int,
        lot_deltas: list[tuple[Lot, int]],
        source: str,
        reference: str | None,
        user,
        note: str = "",
        unit_cost: decimal.Decimal | None = None,
    ) -> StockMovement:
        """Append the movement of a change just made (balance: the product's total now). An
        IN with a `unit_cost` brings stock at that cost into the average; every other movement
        records the average as it is."""
        if unit_cost is not None and delta > 0:
            unit_cost = as_cost(unit_cost)
            product.average_cost = moving_average(
                on_hand=product.quantity - delta,
                average=product.average_cost,
                quantity=delta,
                unit_cost=unit_cost,
            )
        else:
            unit_cost = product.average_cost
        movement = StockMovement(
            organization_id=product.organization_id,
            product=product,
            location=location,
            movement_type=movement_type,
            quantity=quantity,
            delta=delta,
            balance_after=product.quantity,
            unit_cost=unit_cost,
            note=note,
            source=source,
            reference=reference,
            performed_by=user if getattr(user, "pk", None) else None,
        )
        self._movements.append((movement, [(lot, d) for lot, d in lot_deltas if d]))
        return movement

    # -- writing

    def close(self) -> list[StockMovement]:
        """Write the products, levels, lots and movements, then the low-stock changes."""
        now = timezone.now()
        products = list(self.products.values())
        for product in products:
            product.updated_at = now
        write_columns(products, ["quantity", "allocated", "average_cost", "updated_at"])
        changed = [self._levels[key] for key in sorted(self._changed_levels, key=str)]
        new = [level for level in changed if level.pk is None]
        if new:
            StockLevel.objects.bulk_create(new)
        for level in changed:
            level.updated_at = now
        write_columns([level for level in changed if level.pk is not None],
               ["quantity", "allocated", "updated_at"])  # fmt: skip
        lots = [self._lots[pk] for pk in sorted(self._changed_lots)]
        if lots:
            write_columns(lots, ["quantity", "expiration_date"])
            _refresh_earliest_expiry(sorted({lot.product_id for lot in lots}))
        movements = StockMovement.objects.bulk_create([m for m, _ in self._movements])
        lines = [
            MovementLot(movement=movement, lot=lot, delta=delta)
            for movement, (_, lot_deltas) in zip(movements, self._movements, strict=True)
            for lot, delta in lot_deltas
        ]
        if lines:
            MovementLot.objects.bulk_create(lines)
        record_low_stock_changes(was_low=self.was_low, products=products)
        for organization_id in {product.organization_id for product in products}:
            figures_changed(organization_id)  # the dashboard's and the alerts' figures
        return movements


def moving_average(
    *, on_hand: int, average: decimal.Decimal, quantity: int, unit_cost: decimal.Decimal
) -> decimal.Decimal:
    """The average cost after `quantity` units at `unit_cost` join `on_hand` units at
    `average`: 4 places, rounded half-even (API.md, Valuation)."""
    with decimal.localcontext(prec=60):
        total = on_hand * decimal.Decimal(average) + quantity * decimal.Decimal(unit_cost)
        return as_cost(total / (on_hand + quantity))


def _validate_unit_cost(unit_cost, *, field: str = "unit_cost") -> None:
    if unit_cost is None:
        return
    if not isinstance(unit_cost, decimal.Decimal) or not unit_cost.is_finite() or unit_cost < 0:
        raise InvalidStockChange("A unit cost is a decimal >= 0.", field=field)


def _validate_quantity(movement_type: str, quantity, field: str = "quantity") -> None:
    minimum = 0 if movement_type == Type.ADJUST else 1
    if movement_type not in Type.values:
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


# --- Movements ---------------------------------------------------------------------------------


def record_movement(
    *,
    product: Product,
    movement_type: str,
    quantity: int,
    user,
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
    _validate_quantity(movement_type, quantity)
    _validate_unit_cost(unit_cost)
    if unit_cost is not None and movement_type != Type.IN:
        raise InvalidStockChange(
            "Only an IN takes a unit cost; other movements are valued at the average cost.",
            field="unit_cost",
        )
    with transaction.atomic():
        books = Books.of([product.pk])
        current = books.products[product.pk]
        location = _usable_location(
            location, organization_id=current.organization_id, field="location"
        )
        lot = _lot_for(books, current, movement_type, lot_code, expiration_date)
        if movement_type == Type.IN:
            level = books.put(current, location, quantity, lot=lot)
            delta, lot_deltas = quantity, [(level.lot, quantity)]
        elif movement_type == Type.OUT:
            taken, short = books.take(current, location, quantity, lot=lot)
            if short:
                raise InsufficientStock(
                    [Shortage(0, current.pk, current.sku, quantity, *short)],
                    field="quantity",
                    lines=False,
                )
            delta = -quantity
            lot_deltas = [(level.lot, -units) for level, units in taken.parts]
        else:
            level, delta = books.count(current, location, quantity, lot=lot)
            lot_deltas = [(level.lot, delta)]
        movement = books.record(
            product=current,
            location=location,
            movement_type=movement_type,
            quantity=quantity,
            delta=delta,
            lot_deltas=[(lot, d) for lot, d in lot_deltas if lot is not None],
            source=source,
            reference=reference,
            user=user,
            note=note,
            unit_cost=unit_cost,
        )
        (movement,) = books.close()
    product.quantity = movement.balance_after
    product.average_cost = current.average_cost
    return movement


def record_initial_stock(*, product: Product, quantity: int, user) -> StockMovement | None:
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
    if product.track_lots:
        raise InvalidStockChange(
            f"{product.sku} tracks lots: record its opening stock with an IN movement that "
            "names the lot (lot_code).",
            field="quantity",
        )
    with transaction.atomic():
        books = Books.of([product.pk])
        books.was_low = {}  # a new product's opening stock is no crossing from above
        current = books.products[product.pk]
        location = default_location(organization_id=current.organization_id)
        books.put(current, location, quantity, lot=None)
        books.record(
            product=current,
            location=location,
            movement_type=Type.IN,
            quantity=quantity,
            delta=quantity,
            lot_deltas=[],
            source=Source.INITIAL,
            reference=None,
            user=user,
            unit_cost=current.cost_price or decimal.Decimal(0),
        )
        (movement,) = books.close()
    product.quantity = movement.balance_after
    product.average_cost = current.average_cost
    return movement


def set_stock_level(
    *, product: Product, quantity: int, user, source: str = Source.PRODUCT_EDIT, note: str = ""
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


# --- Lines (orders) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product, e.g. an order line (with its lot, where one is named, and
    what each unit cost, where stock comes in at a cost)."""

    product_id: int
    quantity: int
    lot_code: str = ""
    expiration_date: datetime.date | None = None
    unit_cost: decimal.Decimal | None = None


def _lines_location(lines, location, field) -> tuple[Books, Location]:
    for line in lines:
        _validate_quantity(Type.OUT, line.quantity, field=field or "quantity")
        _validate_unit_cost(line.unit_cost, field=field or "unit_cost")
    books = Books.of((line.product_id for line in lines), field=field)
    (organization_id,) = {product.organization_id for product in books.products.values()}
    return books, _usable_location(location, organization_id=organization_id, field="location")


def take_out_of_stock(
    *,
    lines: list[StockLine],
    source: str,
    reference: str | None,
    user,
    location: Location | None = None,
    note: str = "",
    field: str | None = "items",
) -> list[StockMovement]:
    """One OUT movement per line at the location (from the line's lot, else FEFO), all or
    none: any short line raises InsufficientStock naming every short line."""
    if not lines:
        return []
    with transaction.atomic():
        books, location = _lines_location(lines, location, field)
        shortages = []
        for position, line in enumerate(lines):
            product = books.products[line.product_id]
            lot = None
            if line.lot_code:
                if not product.track_lots:
                    raise InvalidStockChange(
                        f"Line {position + 1} ({product.sku}): does not track lots.", field=field
                    )
                lot = books.lot(product, line.lot_code, field=field)
            taken, short = books.take(product, location, line.quantity, lot=lot)
            if short:
                shortages.append(Shortage(position, product.pk, product.sku, line.quantity, *short))
                continue
            books.record(
                product=product,
                location=location,
                movement_type=Type.OUT,
                quantity=line.quantity,
                delta=-line.quantity,
                lot_deltas=[(level.lot, -units) for level, units in taken.parts if level.lot],
                source=source,
                reference=reference,
                user=user,
                note=note,
            )
        if shortages:
            raise InsufficientStock(shortages, field=field)
        return books.close()


def add_to_stock(
    *,
    lines: list[StockLine],
    source: str,
    reference: str | None,
    user,
    location: Location | None = None,
    note: str = "",
    field: str = "items",
) -> list[StockMovement]:
    """One IN movement per line at the location, all in one transaction (receiving a purchase
    order, a receipt), at the line's unit cost (the average cost when it names none). A
    lot-tracked product's line names its lot (a new code creates it, with the line's expiry);
    other products' lines name none."""
    if not lines:
        return []
    with transaction.atomic():
        books, location = _lines_location(lines, location, field)
        wrong = []
        for position, line in enumerate(lines):
            product = books.products[line.product_id]
            if product.track_lots and not line.lot_code:
                wrong.append(f"Line {position + 1} ({product.sku}): lot-tracked, name its lot "
                             "(lot_code).")  # fmt: skip
            elif not product.track_lots and (line.lot_code or line.expiration_date):
                wrong.append(f"Line {position + 1} ({product.sku}): does not track lots.")
        if wrong:
            raise InvalidStockChange(wrong, field=field)
        for line in lines:
            product = books.products[line.product_id]
            lot = None
            if product.track_lots:
                lot = books.lot(product, line.lot_code, expiration_date=line.expiration_date,
                                create=True)  # fmt: skip
            books.put(product, location, line.quantity, lot=lot)
            books.record(
                product=product,
                location=location,
                movement_type=Type.IN,
                quantity=line.quantity,
                delta=line.quantity,
                lot_deltas=[(lot, line.quantity)] if lot else [],
                source=source,
                reference=reference,
                user=user,
                note=note,
                unit_cost=line.unit_cost,
            )
        return books.close()


def return_to_stock(
    *,
    lines: list[StockLine],
    location: Location,
    taken_in: str,
    returned_in: list[str],
    source: str,
    reference: str,
    user,
    note: str = "",
) -> list[StockMovement]:
    """Stock coming back (a customer's return): one IN per line at the location, at the line's
    unit cost (what the sale recorded). A lot-tracked product's units go back to the lots the
    movements of `taken_in` took (less what the movements of `returned_in` already gave back),
    latest expiry first."""
    if not lines:
        return []
    with transaction.atomic():
        books, location = _lines_location(lines, location, "lines")
        room: dict[int, list[list[int]]] = {}  # per product: [lot id, units it may take back]
        for line in lines:
            product = books.products[line.product_id]
            lot_deltas = []
            if product.track_lots:
                if product.pk not in room:  # once: later lines see what earlier ones used
                    room[product.pk] = [
                        [lot_id, units]
                        for lot_id, units in _lots_taken(
                            product.pk, taken_in=taken_in, returned_in=returned_in
                        )
                    ]
                remaining = line.quantity
                for space in room[product.pk]:
                    units = min(space[1], remaining)
                    if units <= 0:
                        continue
                    lot = books.known_lot(space[0])
                    books.put(product, location, units, lot=lot)
                    lot_deltas.append((lot, units))
                    space[1] -= units
                    remaining -= units
                if remaining:
                    raise InvalidStockChange(
                        f"{product.sku}: {remaining} unit(s) came from no lot of this sale.",
                        field="lines",
                    )
            else:
                books.put(product, location, line.quantity, lot=None)
            books.record(
                product=product,
                location=location,
                movement_type=Type.IN,
                quantity=line.quantity,
                delta=line.quantity,
                lot_deltas=lot_deltas,
                source=source,
                reference=reference,
                user=user,
                note=note,
                unit_cost=line.unit_cost,
            )
        return books.close()


def _lots_taken(product_id: int, *, taken_in: str, returned_in: list[str]) -> list[tuple[int, int]]:
    """(lot id, units) that the movements of reference `taken_in` took from the product's lots
    and those of `returned_in` have not given back, latest expiry first (no expiry last)."""
    lines = MovementLot.objects.filter(movement__product_id=product_id).filter(
        Q(movement__reference=taken_in, movement__delta__lt=0)
        | Q(movement__reference__in=returned_in, movement__delta__gt=0)
    )
    room: dict[int, int] = {}
    expiry = {}
    for lot_id, delta, expires in lines.values_list("lot_id", "delta", "lot__expiration_date"):
        room[lot_id] = room.get(lot_id, 0) - delta
        expiry[lot_id] = expires
    far = datetime.date.min
    order = sorted(room, key=lambda pk: (expiry[pk] or far, pk), reverse=True)
    return [(pk, room[pk]) for pk in order if room[pk] > 0]


# --- Reservations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """Units of one level that a reservation holds."""

    product_id: int
    level_id: int
    quantity: int


@dataclass(frozen=True)
class ReservedLine:
    """A line whose stock is reserved: its product, quantity and the levels holding it."""

    product_id: int
    quantity: int
    held: tuple[Held, ...]


def reserve_stock(
    *, lines: list[StockLine], location: Location | None, field: str | None = "items"
) -> list[list[tuple[StockLevel, int]]]:
    """Reserve every line at the location (lots by FEFO), all or none, under the product locks:
    `allocated` grows on the levels and the products; nothing moves. Returns, per line, the
    levels reserved and their units; any short line raises InsufficientStock naming every short
    line. A product that falls to its threshold by it has crossed it (the outbox hears)."""
    if not lines:
        return []
    with transaction.atomic(savepoint=False):  # a status move's step: no savepoint of its own
        books, location = _lines_location(lines, location, field)
        reserved, shortages = [], []
        for position, line in enumerate(lines):
            product = books.products[line.product_id]
            taken, short = books.reserve(product, location, line.quantity)
            if short:
                shortages.append(Shortage(position, product.pk, product.sku, line.quantity, *short))
                continue
            reserved.append(taken.parts)
        if shortages:
            raise InsufficientStock(shortages, field=field)
        books.close()
        return reserved


def release_stock(*, held: list[Held]) -> None:
    """Give reserved units back to `available` (a confirmed order cancelled)."""
    if not held:
        return
    with transaction.atomic(savepoint=False):  # a status move's step: no savepoint of its own
        books = Books.of(part.product_id for part in held)
        for part in held:
            product = books.products[part.product_id]
            books.release(books.held_level(product, part.level_id), part.quantity)
        books.close()


def take_reserved_stock(
    *,
    lines: list[ReservedLine],
    location: Location,
    source: str,
    reference: str | None,
    user,
    note: str = "",
) -> list[StockMovement]:
    """Take every line out of the levels its reservations hold (at `location`, where they were
    made): one OUT movement per line, all in one transaction. Reserved stock cannot be short."""
    if not lines:
        return []
    with transaction.atomic(savepoint=False):  # a status move's step: no savepoint of its own
        books = Books.of(line.product_id for line in lines)
        for line in lines:
            product = books.products[line.product_id]
            lot_deltas = []
            for part in line.held:
                level = books.held_level(product, part.level_id)
                books.take_reserved(level, part.quantity)
                if level.lot is not None:
                    lot_deltas.append((level.lot, -part.quantity))
            books.record(
                product=product,
                location=location,
                movement_type=Type.OUT,
                quantity=line.quantity,
                delta=-line.quantity,
                lot_deltas=lot_deltas,
                source=source,
                reference=reference,
                user=user,
                note=note,
            )
        return books.close()


# --- Transfers --------------------------------------------------------------------------------


def transfer_stock(
    *,
    product: Product,
    from_location: Location,
    to_location: Location,
    quantity: int,
    user,
    lot_code: str | None = None,
    note: str = "",
) -> Transfer:
    """Move available stock between two locations: an OUT at the source and an IN at the
    destination, one transaction; lots keep their code and expiry (FEFO when none is named)."""
    _validate_quantity(Type.OUT, quantity)
    if from_location.pk == to_location.pk:
        raise InvalidStockChange("A transfer needs two different locations.", field="to_location")
    with transaction.atomic():
        books = Books.of([product.pk])
        current = books.products[product.pk]
        organization_id = current.organization_id
        source = _usable_location(
            from_location, organization_id=organization_id, field="from_location"
        )
        target = _usable_location(to_location, organization_id=organization_id, field="to_location")
        lot = None
        if lot_code:
            if not current.track_lots:
                raise InvalidStockChange(f"{current.sku} does not track lots.", field="lot_code")
            lot = books.lot(current, lot_code)
        taken, short = books.take(current, source, quantity, lot=lot)
        if short:
            raise InsufficientStock(
                [Shortage(0, current.pk, current.sku, quantity, *short)],
                field="quantity",
                lines=False,
            )
        number = next_number(organization_id=organization_id, kind=Transfer.REFERENCE_PREFIX)
        reference = f"{Transfer.REFERENCE_PREFIX}-{number:05d}"
        lots = [(level.lot, units) for level, units in taken.parts if level.lot]
        record = partial(
            books.record,
            product=current,
            quantity=quantity,
            source=Source.TRANSFER,
            reference=reference,
            user=user,
            note=note,
        )
        # The OUT's balance is the total without the units in transit, the IN's with them.
        record(location=source, movement_type=Type.OUT, delta=-quantity,
               lot_deltas=[(lot, -units) for lot, units in lots])  # fmt: skip
        for level, units in taken.parts:
            books.put(current, target, units, lot=level.lot)
        record(location=target, movement_type=Type.IN, delta=quantity, lot_deltas=lots)
        out_movement, in_movement = books.close()
        return Transfer.objects.create(
            organization_id=organization_id,
            number=number,
            product=current,
            from_location=source,
            to_location=target,
            quantity=quantity,
            note=note,
            out_movement=out_movement,
            in_movement=in_movement,
            performed_by=user if getattr(user, "pk", None) else None,
        )
