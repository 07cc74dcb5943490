"""Order lines: many products' stock in or out in one transaction, all or none (receiving,
fulfilling a pending order, returns). An order passes a source and a reference; stock knows
no documents."""

import datetime
import decimal
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from stock.models import Location, MovementLot, StockMovement
from stock.services.books import Books, Entry
from stock.services.errors import InsufficientStock, InvalidStockChange, Shortage
from stock.services.locations import usable_location
from stock.services.movements import check_quantity
from stock.services.valuation import check_unit_cost
from users.models import User

Type = StockMovement.MovementType


@dataclass(frozen=True)
class StockLine:
    """A quantity of one product, e.g. an order line (with its lot, where one is named, and
    what each unit cost, where stock comes in at a cost)."""

    product_id: int
    quantity: int
    lot_code: str = ""
    expiration_date: datetime.date | None = None
    unit_cost: decimal.Decimal | None = None


def open_books(
    lines: list[StockLine], location: Location | None, field: str | None, entry: Entry | None
) -> tuple[Books, Location]:
    """Check the lines, lock their products (id order) and open their books at the location
    (the organization's default when None)."""
    for line in lines:
        check_quantity(Type.OUT, line.quantity, field=field or "quantity")
        check_unit_cost(line.unit_cost, field=field or "unit_cost")
    books = Books.of((line.product_id for line in lines), entry=entry, field=field)
    (organization_id,) = {product.organization_id for product in books.products.values()}
    return books, usable_location(location, organization_id=organization_id, field="location")


def take_out_of_stock(
    *,
    lines: list[StockLine],
    source: str,
    reference: str | None,
    user: User | None,
    location: Location | None = None,
    note: str = "",
    field: str | None = "items",
) -> list[StockMovement]:
    """One OUT movement per line at the location (from the line's lot, else FEFO), all or
    none: any short line raises InsufficientStock naming every short line."""
    if not lines:
        return []
    entry = Entry(source=source, reference=reference, user=user, note=note)
    with transaction.atomic():
        books, location = open_books(lines, location, field, entry)
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
            _, short = books.take(product, location, line.quantity, lot=lot)
            if short:
                shortages.append(Shortage(position, product.pk, product.sku, line.quantity, *short))
        if shortages:
            raise InsufficientStock(shortages, field=field)
        return books.close()


def add_to_stock(
    *,
    lines: list[StockLine],
    source: str,
    reference: str | None,
    user: User | None,
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
    entry = Entry(source=source, reference=reference, user=user, note=note)
    with transaction.atomic():
        books, location = open_books(lines, location, field, entry)
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
            books.put(product, location, [(lot, line.quantity)], unit_cost=line.unit_cost)
        return books.close()


def return_to_stock(
    *,
    lines: list[StockLine],
    location: Location,
    taken_in: str,
    returned_in: list[str],
    source: str,
    reference: str,
    user: User | None,
    note: str = "",
) -> list[StockMovement]:
    """Stock coming back (a customer's return): one IN per line at the location, at the line's
    unit cost (what the sale recorded). A lot-tracked product's units go back to the lots the
    movements of `taken_in` took (less what the movements of `returned_in` already gave back),
    latest expiry first."""
    if not lines:
        return []
    entry = Entry(source=source, reference=reference, user=user, note=note)
    with transaction.atomic():
        books, location = open_books(lines, location, "lines", entry)
        room: dict[int, list[list[int]]] = {}  # per product: [lot id, units it may take back]
        for line in lines:
            product = books.products[line.product_id]
            parts = [(None, line.quantity)]
            if product.track_lots:
                if product.pk not in room:  # once: later lines see what earlier ones used
                    room[product.pk] = [
                        [lot_id, units]
                        for lot_id, units in _lots_taken(
                            product.pk, taken_in=taken_in, returned_in=returned_in
                        )
                    ]
                parts, remaining = [], line.quantity
                for space in room[product.pk]:
                    units = min(space[1], remaining)
                    if units <= 0:
                        continue
                    parts.append((books.known_lot(space[0]), units))
                    space[1] -= units
                    remaining -= units
                if remaining:
                    raise InvalidStockChange(
                        f"{product.sku}: {remaining} unit(s) came from no lot of this sale.",
                        field="lines",
                    )
            books.put(product, location, parts, unit_cost=line.unit_cost)
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
