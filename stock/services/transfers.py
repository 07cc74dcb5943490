"""Transfers: available stock moved between two locations of the organization."""

from django.db import transaction

from core.numbering import next_number, reference
from core.tenancy import recorded_user
from inventory.models import Product
from stock.models import Location, StockMovement, Transfer
from stock.services.books import Books, Entry
from stock.services.errors import InsufficientStock, InvalidStockChange, Shortage
from stock.services.locations import usable_location
from stock.services.movements import check_quantity
from users.models import User

Type = StockMovement.MovementType


def transfer_stock(
    *,
    product: Product,
    from_location: Location,
    to_location: Location,
    quantity: int,
    user: User | None,
    lot_code: str | None = None,
    note: str = "",
) -> Transfer:
    """Move available stock between two locations: an OUT at the source and an IN at the
    destination, one transaction; lots keep their code and expiry (FEFO when none is named)."""
    check_quantity(Type.OUT, quantity)
    if from_location.pk == to_location.pk:
        raise InvalidStockChange("A transfer needs two different locations.", field="to_location")
    entry = Entry(source=StockMovement.Source.TRANSFER, user=user, note=note)
    with transaction.atomic():
        books = Books.of([product.pk], entry=entry)
        current = books.products[product.pk]
        organization_id = current.organization_id
        source = usable_location(
            from_location, organization_id=organization_id, field="from_location"
        )
        target = usable_location(to_location, organization_id=organization_id, field="to_location")
        lot = None
        if lot_code:
            if not current.track_lots:
                raise InvalidStockChange(f"{current.sku} does not track lots.", field="lot_code")
            lot = books.lot(current, lot_code)
        # The OUT's balance is the total without the units in transit, the IN's with them.
        picked, short = books.take(current, source, quantity, lot=lot)
        if short:
            raise InsufficientStock(
                [Shortage(0, current.pk, current.sku, quantity, *short)],
                field="quantity",
                lines=False,
            )
        books.put(current, target, [(level.lot, units) for level, units in picked.parts])
        number = next_number(organization_id=organization_id, kind=Transfer.REFERENCE_PREFIX)
        books.entry = Entry(
            source=entry.source,
            reference=reference(Transfer.REFERENCE_PREFIX, number),
            user=user,
            note=note,
        )
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
            performed_by=recorded_user(user),
        )
