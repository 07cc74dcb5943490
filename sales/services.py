"""Sales orders: status moves and edits; confirming reserves every line's stock, fulfilling
takes it out (the reservations, or what is available), cancelling releases it: all or none;
customer returns bring goods back."""

from django.utils import timezone

from core.changes import UNSET, given
from core.db import write_columns
from core.errors import Conflict
from core.events import emit, money
from core.fields import as_money
from orders import services as orders
from orders.services import DocumentLine, OrderItem
from sales.models import CustomerReturn, Reservation, SalesOrder
from stock.models import Location, StockMovement
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
from users.models import User

GONE = "A product this order refers to was deleted meanwhile."
Status = SalesOrder.Status
Source = StockMovement.Source

# What each status lets be edited ("items": the lines): everything while pending, nothing after.
EDITABLE = {Status.PENDING: frozenset({"items", "customer_name", "customer_email", "location"})}


def _refuse_edit(order: SalesOrder, refused: set[str]) -> Conflict:
    return Conflict(f"A {order.status} sales order cannot be edited.")


# --- Status moves (the status table: STATUS_ACTIONS) --------------------------------------------


def _order_event(order: SalesOrder, status: str, items=None) -> None:
    """`sales_order.<status>` in the move's transaction (core.events), with its lines."""
    if items is None:
        written = getattr(order, "_prefetched_objects_cache", {}).get("items")  # just written
        if written is not None:
            items = sorted(written, key=lambda item: item.pk)
        else:
            items = order.items.select_related("product").order_by("id")
    emit(
        organization_id=order.organization_id,
        type=f"sales_order.{status}",
        data={
            "id": order.pk,
            "reference": order.reference,
            "status": status,
            "customer_name": order.customer_name,
            "location": order.location_id,
            "lines": [
                {
                    "product": item.product_id,
                    "sku": item.product.sku,
                    "quantity": item.quantity,
                    "unit_price": money(item.unit_price),
                }
                for item in items
            ],
        },
    )


def confirm_sales_order(*, order: SalesOrder, user: User | None) -> SalesOrder:
    """Reserve every line at the order's location (lots by FEFO), all or none (a 400 naming
    the short lines), and remember which levels each line holds; the order is `confirmed`."""
    return orders.change_status(order=order, status=Status.CONFIRMED, user=user, effect=_confirm)


def _confirm(order: SalesOrder, user) -> list[str]:
    items = orders.order_lines(order)
    lines = [StockLine(product_id=item.product_id, quantity=item.quantity) for item in items]
    reserved = reserve_stock(lines=lines, location=order.location)
    Reservation.objects.bulk_create(
        Reservation(organization_id=order.organization_id, item=item, level=level, quantity=units)
        for item, parts in zip(items, reserved, strict=True)
        for level, units in parts
    )
    order.confirmed_at = timezone.now()
    _order_event(order, Status.CONFIRMED)
    return ["confirmed_at"]


def fulfil_sales_order(*, order: SalesOrder, user: User | None) -> SalesOrder:
    """Take every line out of stock, one OUT movement each, or none: a confirmed order's
    reservations exactly; a pending order's available stock (a 400 naming the short lines).
    Each line records the average cost its OUT took the units at: its cost of goods sold. A
    fulfilled order is final."""
    return orders.change_status(order=order, status=Status.FULFILLED, user=user, effect=_fulfil)


def _fulfil(order: SalesOrder, user) -> list[str]:
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
            source=Source.SALES_ORDER,
            reference=order.reference,
            user=user,
        )
        Reservation.objects.filter(pk__in=[reservation.pk for reservation in held]).delete()
    else:
        items = orders.order_lines(order)
        movements = take_out_of_stock(
            lines=[StockLine(item.product_id, item.quantity) for item in items],
            location=order.location,
            source=Source.SALES_ORDER,
            reference=order.reference,
            user=user,
            field="items",
        )
    for item, movement in zip(items, movements, strict=True):
        item.unit_cost = movement.unit_cost
        item.line_cost = as_money(item.quantity * movement.unit_cost)
    write_columns(items, ["unit_cost", "line_cost"])
    order.fulfilled_at = timezone.now()
    _order_event(order, Status.FULFILLED)
    return ["fulfilled_at"]


def cancel_sales_order(*, order: SalesOrder, user: User | None) -> SalesOrder:
    """A pending or confirmed order that will not be fulfilled is `cancelled`; a confirmed
    one's reservations go back to `available`."""
    return orders.change_status(order=order, status=Status.CANCELLED, user=user, effect=_cancel)


def _cancel(order: SalesOrder, user) -> list[str]:
    if order.status == Status.CONFIRMED:
        held = _reservations(order)
        release_stock(held=[Held(r.item.product_id, r.level_id, r.quantity) for r in held])
        Reservation.objects.filter(pk__in=[reservation.pk for reservation in held]).delete()
    _order_event(order, Status.CANCELLED)
    return []


def _reservations(order: SalesOrder) -> list[Reservation]:
    return list(
        Reservation.objects.filter(item__order=order)
        .select_related("item")
        .order_by("item_id", "id")
    )


STATUS_ACTIONS = {
    Status.CONFIRMED: confirm_sales_order,
    Status.FULFILLED: fulfil_sales_order,
    Status.CANCELLED: cancel_sales_order,
}


def _product_price(product):
    return product.price


RULES = orders.Rules(
    model=SalesOrder,
    actions=STATUS_ACTIONS,
    editable=EDITABLE,
    refuse_edit=_refuse_edit,
    gone=GONE,
    default_price=_product_price,
)


# --- Creating and editing ----------------------------------------------------------------------


def create_sales_order(
    *,
    organization,
    user: User | None,
    items: list[OrderItem],
    status: str = Status.PENDING,
    location: Location | None = None,
    customer_name: str = "",
    customer_email: str = "",
) -> SalesOrder:
    """Number the order SO-nnnnn and store its lines at the products' prices unless given; the
    goods leave from `location` (default: the organization's default); created as fulfilled,
    it takes the stock too, or nothing is stored at all."""
    fields = {
        "customer_name": customer_name,
        "customer_email": customer_email,
        "location": location,
    }
    return orders.create_order(
        RULES, organization=organization, user=user, items=items, status=status, fields=fields
    )


def update_sales_order(
    *,
    order: SalesOrder,
    user: User | None,
    customer_name: str = UNSET,
    customer_email: str = UNSET,
    location: Location = UNSET,
    items: list[OrderItem] | None = None,
    status: str | None = None,
) -> SalesOrder:
    """Edit the order while pending (EDITABLE), replace its lines when `items` are given, then
    move it to `status` when given."""
    fields = given(
        {"customer_name": customer_name, "customer_email": customer_email, "location": location}
    )
    return orders.update_order(
        RULES, order=order, user=user, fields=fields, items=items, status=status
    )


# --- Documents: customer returns ---------------------------------------------------------------


def _fulfilled(order: SalesOrder) -> None:
    if order.status != Status.FULFILLED:
        raise Conflict(f"A {order.status} sales order takes no returns; only fulfilled ones.")


CUSTOMER_RETURN = orders.Document(
    model=CustomerReturn,
    order_field="sales_order",
    counter="returned_quantity",
    left=lambda item: item.quantity - item.returned_quantity,
    verb="return",
    left_as="sold and not returned yet",
    check=_fulfilled,
    line_values=lambda line, item: {
        "unit_price": item.unit_price,
        "unit_cost": item.unit_cost,  # what the sale recorded: restocked, its cost is undone
        "line_cost": as_money(line.quantity * item.unit_cost),
    },
)


def record_customer_return(
    *,
    order: SalesOrder,
    user: User | None,
    lines: list[DocumentLine],
    restock: bool = True,
    location: Location | None = None,
    note: str = "",
) -> CustomerReturn:
    """A customer brings goods of a fulfilled order back (CR-nnnnn): per line an item of the
    order and a quantity no larger than it sold less what came back before (a 400 naming the
    line). Restocked, one IN per line at `location` (default the order's) at the cost the sale
    recorded, lot-tracked stock back to the lots the sale took; otherwise nothing moves. Under
    the order's lock, so concurrent returns never return more than was sold."""

    def put_back(*, order, lines, reference, location, user, note):
        return return_to_stock(
            lines=lines,
            location=location,
            taken_in=order.reference,
            returned_in=[r.reference for r in order.returns.filter(restock=True)],
            source=Source.CUSTOMER_RETURN,
            reference=reference,
            user=user,
            note=note,
        )

    return orders.record_document(
        CUSTOMER_RETURN,
        order=order,
        user=user,
        lines=lines,
        move_stock=put_back if restock else None,
        location=location,
        note=note,
        values={"restock": restock},
    )
