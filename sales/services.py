"""Sales orders: status moves and edits; confirming reserves every line's stock, fulfilling
takes it out (the reservations, or what is available), cancelling releases it: all or none."""

from django.db import transaction
from django.utils import timezone

from core.db import write_columns
from core.errors import Conflict
from core.fields import as_money
from core.numbering import next_number
from orders import services as orders
from sales.models import (
    CustomerReturn,
    CustomerReturnLine,
    Reservation,
    SalesOrder,
    SalesOrderItem,
)
from stock.models import StockMovement
from stock.services import (
    Held,
    ReservedLine,
    StockLine,
    release_stock,
    reserve_stock,
    return_to_stock,
    take_out_of_stock,
    take_reserved_stock,
)

GONE = "A product this order refers to was deleted meanwhile."
Status = SalesOrder.Status


def _confirm(order: SalesOrder, user) -> list[str]:
    """Reserve every line at the order's location (lots by FEFO), all or none (a 400 naming
    the short lines), and remember which levels each line holds."""
    items = list(order.items.order_by("id"))
    lines = [StockLine(product_id=item.product_id, quantity=item.quantity) for item in items]
    reserved = reserve_stock(lines=lines, location=order.location)
    Reservation.objects.bulk_create(
        Reservation(organization_id=order.organization_id, item=item, level=level, quantity=units)
        for item, parts in zip(items, reserved, strict=True)
        for level, units in parts
    )
    order.confirmed_at = timezone.now()
    return ["confirmed_at"]


def _reservations(order: SalesOrder) -> list[Reservation]:
    return list(
        Reservation.objects.filter(item__order=order)
        .select_related("item")
        .order_by("item_id", "id")
    )


def _fulfil(order: SalesOrder, user) -> list[str]:
    """Fulfilling takes every line out of stock, one OUT movement each, or none: a confirmed
    order's reservations exactly; a pending order's available stock (a 400 naming the short
    lines). Each line records the average cost its OUT took the units at: its cost of goods
    sold."""
    if order.status == Status.CONFIRMED:
        held = _reservations(order)
        lines = {}
        for reservation in held:
            item = reservation.item
            lines.setdefault(item.pk, (item, []))[1].append(
                Held(item.product_id, reservation.level_id, reservation.quantity)
            )
        items = [item for item, _ in lines.values()]
        movements = take_reserved_stock(
            lines=[
                ReservedLine(item.product_id, item.quantity, tuple(parts))
                for item, parts in lines.values()
            ],
            location=order.location,
            source=StockMovement.Source.SALES_ORDER,
            reference=order.reference,
            user=user,
        )
        Reservation.objects.filter(pk__in=[reservation.pk for reservation in held]).delete()
    else:
        items = list(order.items.order_by("id"))
        movements = take_out_of_stock(
            lines=[StockLine(item.product_id, item.quantity) for item in items],
            location=order.location,
            source=StockMovement.Source.SALES_ORDER,
            reference=order.reference,
            user=user,
            field="items",
        )
    for item, movement in zip(items, movements, strict=True):
        item.unit_cost = movement.unit_cost
        item.line_cost = as_money(item.quantity * movement.unit_cost)
    write_columns(items, ["unit_cost", "line_cost"])
    order.fulfilled_at = timezone.now()
    return ["fulfilled_at"]


def _cancel(order: SalesOrder, user) -> list[str]:
    """Cancelling a confirmed order gives its reservations back to `available`."""
    if order.status == Status.CONFIRMED:
        held = _reservations(order)
        release_stock(held=[Held(r.item.product_id, r.level_id, r.quantity) for r in held])
        Reservation.objects.filter(pk__in=[reservation.pk for reservation in held]).delete()
    return []


def _check_edit(order: SalesOrder, items_changed: bool, fields: dict) -> None:
    """Items and customer change only while pending."""
    if (items_changed or fields) and order.status != Status.PENDING:
        raise Conflict(f"A {order.status} sales order cannot be edited.")


def _product_price(product):
    return product.price


RULES = orders.Rules(
    model=SalesOrder,
    effects={Status.CONFIRMED: _confirm, Status.FULFILLED: _fulfil, Status.CANCELLED: _cancel},
    check_edit=_check_edit,
    gone=GONE,
    default_price=_product_price,
)


def create_sales_order(
    *,
    organization,
    user,
    items: list[dict],
    status: str = Status.PENDING,
    location=None,
    customer_name: str = "",
    customer_email: str = "",
) -> SalesOrder:
    """Number the order SO-nnnnn and store its lines at the products' prices unless given; the
    goods leave from `location` (default: the organization's default); created as fulfilled,
    it takes the stock too, or nothing is stored at all."""
    order = {"customer_name": customer_name, "customer_email": customer_email, "location": location}
    return orders.create_order(
        RULES, organization=organization, user=user, items=items, status=status, **order
    )


def update_sales_order(*, order: SalesOrder, user, changes: dict) -> SalesOrder:
    """Edit the order while pending, then move it to a status given in the changes."""
    return orders.update_order(RULES, order=order, user=user, changes=changes)


def record_customer_return(
    *, order: SalesOrder, user, lines: list[dict], restock: bool = True, location=None,
    note: str = "",
) -> CustomerReturn:  # fmt: skip
    """A customer brings goods of a fulfilled order back (CR-nnnnn): per line an item of the
    order and a quantity no larger than it sold less what came back before (a 400 naming the
    line). Restocked, one IN per line at `location` (default the order's), lot-tracked stock
    back to the lots the sale took; otherwise nothing moves. Under the order's lock, so
    concurrent returns never return more than was sold."""
    with transaction.atomic():
        order = orders.lock_order(order)
        if order.status != Status.FULFILLED:
            raise Conflict(f"A {order.status} sales order takes no returns; only fulfilled ones.")
        items, wanted = orders.document_lines(
            order,
            lines,
            left=lambda item: item.quantity - item.returned_quantity,
            verb="return",
            left_as="sold and not returned yet",
        )
        number = next_number(
            organization_id=order.organization_id, kind=CustomerReturn.REFERENCE_PREFIX
        )
        reference = f"{CustomerReturn.REFERENCE_PREFIX}-{number:05d}"
        movements = []
        location = location or order.location
        if restock:
            earlier = [r.reference for r in order.returns.filter(restock=True)]
            movements = return_to_stock(
                lines=[
                    StockLine(
                        items[line["item"]].product_id,
                        line["quantity"],
                        unit_cost=items[line["item"]].unit_cost,  # what the sale recorded
                    )
                    for line in lines
                ],
                location=location,
                taken_in=order.reference,
                returned_in=earlier,
                source=StockMovement.Source.CUSTOMER_RETURN,
                reference=reference,
                user=user,
                note=note,
            )
        for pk, units in wanted.items():
            items[pk].returned_quantity += units
        SalesOrderItem.objects.bulk_update([items[pk] for pk in wanted], ["returned_quantity"])
        returned = CustomerReturn.objects.create(
            organization_id=order.organization_id,
            number=number,
            sales_order=order,
            restock=restock,
            location=location,
            note=note,
            created_by=user if getattr(user, "pk", None) else None,
        )
        CustomerReturnLine.objects.bulk_create(
            CustomerReturnLine(
                customer_return=returned,
                item=items[line["item"]],
                quantity=line["quantity"],
                unit_price=items[line["item"]].unit_price,
                unit_cost=items[line["item"]].unit_cost,  # what the sale recorded
                line_cost=as_money(line["quantity"] * items[line["item"]].unit_cost),
            )
            for line in lines
        )
        returned.movements.set(movements)
        return returned
