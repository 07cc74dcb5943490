"""Reservations: a confirmed order's promise of stock (Saleor's allocations). Confirming
reserves every line under the product locks, all or none; cancelling releases exactly what was
reserved; fulfilling takes exactly that out."""

from dataclasses import dataclass

from django.db import transaction

from stock.models import Location, StockLevel, StockMovement
from stock.services.books import Books, Entry
from stock.services.errors import InsufficientStock, Shortage
from stock.services.lines import StockLine, open_books
from users.models import User


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
        books, location = open_books(lines, location, field, entry=None)
        reserved, shortages = [], []
        for position, line in enumerate(lines):
            product = books.products[line.product_id]
            picked, short = books.reserve(product, location, line.quantity)
            if short:
                shortages.append(Shortage(position, product.pk, product.sku, line.quantity, *short))
                continue
            reserved.append(picked.parts)
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
    user: User | None,
    note: str = "",
) -> list[StockMovement]:
    """Take every line out of the levels its reservations hold (at `location`, where they were
    made): one OUT movement per line, all in one transaction. Reserved stock cannot be short."""
    if not lines:
        return []
    entry = Entry(source=source, reference=reference, user=user, note=note)
    with transaction.atomic(savepoint=False):  # a status move's step: no savepoint of its own
        books = Books.of((line.product_id for line in lines), entry=entry)
        for line in lines:
            product = books.products[line.product_id]
            held = [(books.held_level(product, part.level_id), part.quantity) for part in line.held]
            books.take_reserved(product, location, held)
        return books.close()
