"""Sales orders: status moves and edits; fulfilling takes every line out of stock, or none."""

from django.utils import timezone

from core.errors import Conflict
from orders import services as orders
from sales.models import SalesOrder
from stock.models import StockMovement
from stock.services import take_out_of_stock

GONE = "A product this order refers to was deleted meanwhile."
Status = SalesOrder.Status


def _fulfil(order: SalesOrder, user) -> list[str]:
    """Fulfilling takes every line out of stock, one OUT movement each, or none if any line is
    short (a 400 naming the lines)."""
    take_out_of_stock(
        lines=orders.stock_lines(order),
        location=order.location,
        source=StockMovement.Source.SALES_ORDER,
        reference=order.reference,
        user=user,
        field="items",
    )
    order.fulfilled_at = timezone.now()
    return ["fulfilled_at"]


def _check_edit(order: SalesOrder, items_changed: bool, fields: dict) -> None:
    """Items and customer change only while pending."""
    if (items_changed or fields) and order.status != Status.PENDING:
        raise Conflict(f"A {order.status} sales order cannot be edited.")


def _product_price(product):
    return product.price


RULES = orders.Rules(
    model=SalesOrder,
    effects={Status.FULFILLED: _fulfil},
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
