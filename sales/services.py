"""Sales orders: status moves and edits; fulfilling takes every line out of stock, or none."""

from django.utils import timezone

from core.errors import Conflict
from orders import services as orders
from sales.models import SalesOrder
from stock.models import StockMovement
from stock.services import take_out_of_stock

GONE = "A product this order refers to was deleted meanwhile."
Status = SalesOrder.Status


def _move_to(*, order: SalesOrder, status: str, user) -> None:
    """Apply one move of the TRANSITIONS table to a locked order; fulfilling takes every line
    out of stock (one OUT movement each), or none if any line is short."""
    if not orders.needs_move(order, status):
        return
    if status == Status.FULFILLED:
        take_out_of_stock(
            lines=orders.stock_lines(order),
            source=StockMovement.Source.SALES_ORDER,
            reference=order.reference,
            user=user,
            field="items",
        )
        order.fulfilled_at = timezone.now()
    order.status = status
    order.save(update_fields=["status", "fulfilled_at", "updated_at"])


def _check_edit(order: SalesOrder, items_changed: bool, fields: dict) -> None:
    """Items and customer change only while pending."""
    if (items_changed or fields) and order.status != Status.PENDING:
        raise Conflict(f"A {order.status} sales order cannot be edited.")


def _product_price(product):
    return product.price


def create_sales_order(
    *,
    organization,
    user,
    items: list[dict],
    status: str = Status.PENDING,
    customer_name: str = "",
    customer_email: str = "",
) -> SalesOrder:
    """Number the order SO-nnnnn and store its lines at the products' prices unless given;
    created as fulfilled, it takes the stock too, or nothing is stored at all."""
    return orders.create_order(
        SalesOrder,
        organization=organization,
        user=user,
        items=items,
        status=status,
        move=_move_to,
        gone=GONE,
        default_price=_product_price,
        customer_name=customer_name,
        customer_email=customer_email,
    )


def update_sales_order(*, order: SalesOrder, user, changes: dict) -> SalesOrder:
    """Edit the order while pending, then move it to a status given in the changes."""
    return orders.update_order(
        order,
        user=user,
        changes=changes,
        check_edit=_check_edit,
        move=_move_to,
        gone=GONE,
        default_price=_product_price,
    )


def delete_sales_order(*, order: SalesOrder) -> None:
    """Only a pending order can be deleted."""
    orders.delete_open_order(order)
