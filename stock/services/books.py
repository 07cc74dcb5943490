"""The books engine: one transaction's work on locked products (levels, lots, FEFO picking).

`Books.of(product_ids, entry=...)` locks the products in id order (stock.services.locks) and
reads their levels at the first need; every change goes through its methods, and every change
of a quantity records its own movement (`put`: an IN, `take` and `take_reserved`: an OUT,
`count`: an ADJUST), carrying the books' `Entry` (why, which document, who, a note);
reservations (`reserve`, `release`) move no stock and record none. `close()` writes the
products, levels, lots and movements in a few statements, then the low-stock changes, so at
every commit:

- a product's quantity == the sum of its movements' deltas == the sum of its levels;
- per product and location, the sum of the deltas there == the stock there;
- per lot, its quantity == the sum of its lot lines' deltas == the sum of its levels.

`check_stock_ledger` verifies the three. Takes see only what is available (on hand less what
confirmed orders reserve); lot-tracked stock is picked by FEFO, never from expired lots.
"""

import datetime
import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from core.bulk import insert_rows
from core.cache import figures_changed
from core.dates import local_today
from core.db import write_columns
from core.fields import MAX_QUANTITY, as_cost
from core.tenancy import recorded_user
from inventory.models import Product
from inventory.selectors import has_expired
from stock.models import Location, Lot, MovementLot, StockLevel, StockMovement
from stock.services.errors import InvalidStockChange, NotStockKeeping
from stock.services.locations import refresh_earliest_expiry
from stock.services.locks import lock_products
from stock.services.outbox import (
    insert_movements,
    low_stock_states,
    record_low_stock_changes,
)
from stock.services.valuation import moving_average
from users.models import User

Type = StockMovement.MovementType


@dataclass(frozen=True)
class Entry:
    """What the ledger records with every movement of one change: why stock moved (`source`),
    the document behind it (`reference`), who moved it (`user`) and a `note`."""

    source: str
    reference: str | None = None
    user: User | None = None  # None: the system (a task, a command)
    note: str = ""


def ensure_stock_keeping(*, product: Product, field: str = "product") -> None:
    """Only a live product without variations holds stock (and can be ordered or moved)."""
    if product.is_archived:
        raise InvalidStockChange(
            f"Product {product.sku} is archived: its stock cannot move.", field=field
        )
    if product.has_variations:
        raise NotStockKeeping(product, field=field)


@dataclass
class Picked:
    """What a take or a reservation picked: (level, units) pairs."""

    parts: list[tuple[StockLevel, int]] = field(default_factory=list)

    @property
    def quantity(self) -> int:
        return sum(units for _, units in self.parts)


class Books:
    """The stock of locked products, read once and written back at the end: the levels, lots
    and movements of one transaction (see the module's docstring). Open it with
    `Books.of(product_ids)` inside an atomic block."""

    def __init__(self, products: dict[int, Product], *, entry: Entry | None = None):
        self.products = products
        # Movements carry it when they are written: a transfer names its reference once it
        # has found the stock (it is numbered after the take).
        self.entry = entry
        self.was_low = low_stock_states(products.values())
        self._today: dict[int, datetime.date] = {}  # per organization (core.dates.local_today)
        self._levels: dict[tuple[int, int, int | None], StockLevel] = {}
        self._loaded: set[int] = set()
        self._lots: dict[int, Lot] = {}
        self._changed_levels: set[tuple[int, int, int | None]] = set()
        self._changed_lots: set[int] = set()
        self._movements: list[tuple[StockMovement, list[tuple[Lot, int]]]] = []
        self._unwritten = False  # of_new's

    @classmethod
    def of(
        cls, product_ids: Iterable[int], *, entry: Entry | None = None, field: str | None = None
    ) -> "Books":
        """Lock the products (id order) and open their books; each must keep stock."""
        ids = sorted(set(product_ids))
        products = lock_products(ids)
        for pk in ids:
            if pk not in products:
                raise InvalidStockChange("Product does not exist.", field=field or "product")
            ensure_stock_keeping(product=products[pk], field=field or "product")
        return cls(products, entry=entry)

    @classmethod
    def of_new(
        cls, products: Iterable[Product], *, entry: Entry | None = None, unwritten: bool = False
    ) -> "Books":
        """The books of products this transaction creates (an import's): no other transaction
        can see them, so there is nothing to lock, and no stock to read. `unwritten`: they are
        numbered but not written yet; their creator writes them, with the stock these books
        give them, before `close()` (which then leaves their rows alone)."""
        books = cls({product.pk: product for product in products}, entry=entry)
        books._loaded = set(books.products)
        books.was_low = {}  # new products' first stock is no crossing from above
        books._unwritten = unwritten
        return books

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

    def lot_of(self, product: Product, lot_id: int) -> Lot:
        """The product's lot of this id, after its levels are read (one instance each)."""
        self._load(product.pk)
        return self.known_lot(lot_id)

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

    def today(self, organization_id: int) -> datetime.date:
        """The organization's today (its local date, core.dates.local_today), read once per
        transaction and only when a lot is looked at (no query otherwise)."""
        if organization_id not in self._today:
            self._today[organization_id] = local_today(organization_id)
        return self._today[organization_id]

    def is_expired(self, lot: Lot | None) -> bool:
        """Whether the lot has expired by its organization's today (FEFO never picks it)."""
        return lot is not None and has_expired(lot.expiration_date, self.today(lot.organization_id))

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

    # -- moving stock: each change records its movement

    def put(
        self,
        product: Product,
        location: Location,
        parts: Iterable[tuple[Lot | None, int]],
        *,
        unit_cost: decimal.Decimal | None = None,
    ) -> None:
        """Units come in at the location, into each part's lot (None for a product without
        lots): one IN movement, at `unit_cost` (which joins the average cost) or, naming none,
        at the average cost."""
        parts = list(parts)
        for lot, units in parts:
            self._change(self.level(product, location, lot), units)
        quantity = sum(units for _, units in parts)
        self._record(product, location, Type.IN, quantity, quantity, parts, unit_cost=unit_cost)

    def take(self, product: Product, location: Location, quantity: int, *, lot: Lot | None = None):
        """Available units go out at the location (from `lot`, else by FEFO for a lot-tracked
        product): one OUT movement. Returns (what was picked, None), or, when short, (None,
        the figures: available, expired there) and nothing changed."""
        picked, short = self._pick(
            product, location, quantity, lot, lambda level, units: self._change(level, -units)
        )
        if picked is not None:
            lots = [(level.lot, -units) for level, units in picked.parts]
            self._record(product, location, Type.OUT, quantity, -quantity, lots)
        return picked, short

    def take_reserved(
        self, product: Product, location: Location, held: Iterable[tuple[StockLevel, int]]
    ) -> None:
        """Units that reservations hold (level, units) go out: they leave `allocated` and the
        stock, one OUT movement."""
        lots = []
        for level, units in held:
            self._allocate(level, -units)
            self._change(level, -units)
            lots.append((level.lot, -units))
        quantity = -sum(units for _, units in lots)
        self._record(product, location, Type.OUT, quantity, -quantity, lots)

    def count(self, product: Product, location: Location, counted: int, *, lot: Lot | None):
        """A stocktake: the counted quantity there (of that lot), never below what is reserved
        there: one ADJUST movement of the difference. Returns the difference."""
        level = self.level(product, location, lot)
        if counted < level.allocated:
            raise InvalidStockChange(
                f"{product.sku}: {level.allocated} unit(s) are reserved there; "
                f"a count of {counted} is below that.",
                field="quantity",
            )
        delta = counted - level.quantity
        self._change(level, delta)
        self._record(product, location, Type.ADJUST, counted, delta, [(level.lot, delta)])
        return delta

    def adjust(self, product: Product, location: Location, delta: int, *, lot: Lot | None):
        """A stocktake's counted difference applied to the stock there now (of that lot): one
        ADJUST movement whose quantity is what is there after it. Returns the level, which
        the caller checks (never below zero, never below what is reserved)."""
        level = self.level(product, location, lot)
        self._change(level, delta)
        self._record(product, location, Type.ADJUST, level.quantity, delta, [(level.lot, delta)])
        return level

    # -- promising stock: no movement

    def reserve(self, product: Product, location: Location, quantity: int):
        """Promise available units (FEFO for a lot-tracked product) without moving them:
        `allocated` grows (see `take` for what it returns)."""
        return self._pick(product, location, quantity, None, self._allocate)

    def release(self, level: StockLevel, units: int) -> None:
        """Give reserved units back to `available`."""
        self._allocate(level, -units)

    # -- the arithmetic

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

    def _allocate(self, level: StockLevel, units: int) -> None:
        """Reserve (units > 0) or release (units < 0) units of a level."""
        level.allocated += units
        self.products[level.product_id].allocated += units
        self._changed_levels.add((level.product_id, level.location_id, level.lot_id))

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
        picked = Picked()
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

    def _record(
        self,
        product: Product,
        location: Location,
        movement_type: str,
        quantity: int,
        delta: int,
        lot_deltas: list[tuple[Lot | None, int]],
        *,
        unit_cost: decimal.Decimal | None = None,
    ) -> None:
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
        )
        lots = [(lot, units) for lot, units in lot_deltas if lot is not None and units]
        self._movements.append((movement, lots))

    # -- writing

    def close(self) -> list[StockMovement]:
        """Write the products, levels, lots and movements (each with the books' entry), then
        the low-stock changes; returns the movements in the order they were made."""
        now = timezone.now()
        products = list(self.products.values())
        if not self._unwritten:
            for product in products:
                product.updated_at = now
            write_columns(products, ["quantity", "allocated", "average_cost", "updated_at"])
        changed = [self._levels[key] for key in sorted(self._changed_levels, key=str)]
        stored = [level for level in changed if level.pk is not None]
        for level in stored:
            level.updated_at = now
        write_columns(stored, ["quantity", "allocated", "updated_at"])
        insert_rows([level for level in changed if level.pk is None])
        lots = [self._lots[pk] for pk in sorted(self._changed_lots)]
        if lots:
            write_columns(lots, ["quantity", "expiration_date"])
            refresh_earliest_expiry(sorted({lot.product_id for lot in lots}))
        movements = insert_movements([self._entered(movement) for movement, _ in self._movements])
        lines = [
            MovementLot(movement=movement, lot=lot, delta=delta)
            for movement, (_, lot_deltas) in zip(movements, self._movements, strict=True)
            for lot, delta in lot_deltas
        ]
        insert_rows(lines)
        record_low_stock_changes(was_low=self.was_low, products=products)
        for organization_id in {product.organization_id for product in products}:
            figures_changed(organization_id)  # the dashboard's and the alerts' figures
        return movements

    def _entered(self, movement: StockMovement) -> StockMovement:
        """The movement with the books' entry: source, reference, who and the note."""
        entry = self.entry
        movement.source = entry.source
        movement.reference = entry.reference
        movement.note = entry.note
        movement.performed_by = recorded_user(entry.user)
        return movement
