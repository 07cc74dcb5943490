"""Purchase orders: status moves and edits; receiving adds stock once."""

from django.utils import timezone

from core.errors import Conflict
from orders import services as orders
from purchases.models import PurchaseOrder
from stock.models import StockMovement
from stock.services import add_to_stock

GONE = "A product or supplier this order refers to was deleted meanwhile."
Status = PurchaseOrder.Status


def _move_to(*, order: PurchaseOrder, status: str, user) -> None:
    """Apply one move of the TRANSITIONS table to a locked order; receiving adds every line
    to stock (one IN movement each)."""
    if not orders.needs_move(order, status):
        return
    if status == Status.RECEIVED:
        add_to_stock(
            lines=orders.stock_lines(order),
            source=StockMovement.Source.PURCHASE_ORDER,
            reference=order.reference,
            user=user,
        )
        order.received_at = timezone.now()
    order.status = status
    order.save(update_fields=["status", "received_at", "updated_at"])


def _check_edit(order: PurchaseOrder, items_changed: bool, fields: dict) -> None:
    """Items and supplier change only while draft, notes and date until received or cancelled."""
    if (items_changed or "supplier" in fields) and order.status != Status.DRAFT:
        raise Conflict(
            f"The items and supplier of a {order.status} purchase order cannot be changed."
        )
    if fields.keys() & {"notes", "expected_date"} and order.status in (
        Status.RECEIVED,
        Status.CANCELLED,
    ):
        raise Conflict(f"A {order.status} purchase order cannot be edited.")


def create_purchase_order(
    *,
    organization,
    user,
    supplier,
    items: list[dict],
    status: str = Status.DRAFT,
    expected_date=None,
    notes: str = "",
) -> PurchaseOrder:
    """Number the order PO-nnnnn and store its lines; created as received, it adds stock too."""
    return orders.create_order(
        PurchaseOrder,
        organization=organization,
        user=user,
        items=items,
        status=status,
        move=_move_to,
        gone=GONE,
        supplier=supplier,
        expected_date=expected_date,
        notes=notes,
    )


def update_purchase_order(*, order: PurchaseOrder, user, changes: dict) -> PurchaseOrder:
    """Edit the order as its status allows, then move it to a status given in the changes."""
    return orders.update_order(
        order, user=user, changes=changes, check_edit=_check_edit, move=_move_to, gone=GONE
    )


def delete_purchase_order(*, order: PurchaseOrder) -> None:
    """Only a draft can be deleted."""
    orders.delete_open_order(order)
