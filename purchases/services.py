"""Purchase orders: status moves and edits; receiving adds stock once."""

from django.utils import timezone

from core.errors import Conflict
from orders import services as orders
from purchases.models import PurchaseOrder
from stock.models import StockMovement
from stock.services import add_to_stock

GONE = "A product or supplier this order refers to was deleted meanwhile."
Status = PurchaseOrder.Status


def _receive(order: PurchaseOrder, user) -> list[str]:
    """Receiving adds every line to stock, one IN movement each, all in one transaction."""
    add_to_stock(
        lines=orders.stock_lines(order),
        location=order.location,
        source=StockMovement.Source.PURCHASE_ORDER,
        reference=order.reference,
        user=user,
    )
    order.received_at = timezone.now()
    return ["received_at"]


def _check_edit(order: PurchaseOrder, items_changed: bool, fields: dict) -> None:
    """Items, supplier and location change only while draft, notes and date until received or
    cancelled."""
    if (items_changed or fields.keys() & {"supplier", "location"}) and order.status != Status.DRAFT:
        raise Conflict(
            f"The items and supplier of a {order.status} purchase order cannot be changed."
        )
    if fields.keys() & {"notes", "expected_date"} and order.status in (
        Status.RECEIVED,
        Status.CANCELLED,
    ):
        raise Conflict(f"A {order.status} purchase order cannot be edited.")


RULES = orders.Rules(
    model=PurchaseOrder, effects={Status.RECEIVED: _receive}, check_edit=_check_edit, gone=GONE
)


def create_purchase_order(
    *,
    organization,
    user,
    supplier,
    items: list[dict],
    status: str = Status.DRAFT,
    location=None,
    expected_date=None,
    notes: str = "",
) -> PurchaseOrder:
    """Number the order PO-nnnnn and store its lines; the goods arrive at `location` (default:
    the organization's default); created as received, it adds stock too."""
    order = {
        "supplier": supplier,
        "location": location,
        "expected_date": expected_date,
        "notes": notes,
    }
    return orders.create_order(
        RULES, organization=organization, user=user, items=items, status=status, **order
    )


def update_purchase_order(*, order: PurchaseOrder, user, changes: dict) -> PurchaseOrder:
    """Edit the order as its status allows, then move it to a status given in the changes."""
    return orders.update_order(RULES, order=order, user=user, changes=changes)
