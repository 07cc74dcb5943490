"""Purchase orders: numbering, editing and status moves; receiving adds stock once."""

from django.utils import timezone

from config.orders import (
    delete_open_order,
    lock_order,
    needs_move,
    next_order_number,
    stock_lines,
    write_lines,
)
from core.db import references_checked
from core.errors import Conflict
from purchases.models import PurchaseOrder
from stock.models import StockMovement
from stock.services import add_to_stock
from users.models import Organization

GONE = "A product or supplier this order refers to was deleted meanwhile."
Status = PurchaseOrder.Status


def lock_purchase_order(pk: int) -> PurchaseOrder:
    """The order, locked: its status moves happen one at a time."""
    return lock_order(PurchaseOrder, pk)


def _move_to(*, order: PurchaseOrder, status: str, user) -> None:
    """Apply one status move of the TRANSITIONS table to a locked order; receiving adds every
    line to stock (one IN movement each)."""
    if not needs_move(
        order, status, unchanged=(Status.DRAFT, Status.SUBMITTED), noun="purchase order"
    ):
        return
    if status == Status.RECEIVED:
        add_to_stock(
            lines=stock_lines(order),
            source=StockMovement.Source.PURCHASE_ORDER,
            reference=order.reference,
            user=user,
        )
        order.received_at = timezone.now()
    order.status = status
    order.save(update_fields=["status", "received_at", "updated_at"])


def create_purchase_order(
    *,
    organization: Organization,
    user,
    supplier,
    items: list[dict],
    status: str = Status.DRAFT,
    expected_date=None,
    notes: str = "",
) -> PurchaseOrder:
    """Number the order PO-nnnnn and store its lines; created as received, it adds stock too."""
    with references_checked(message=GONE, field="items"):
        order = PurchaseOrder.objects.create(
            organization=organization,
            number=next_order_number(PurchaseOrder, organization_id=organization.pk),
            supplier=supplier,
            expected_date=expected_date,
            notes=notes,
            created_by=user if getattr(user, "pk", None) else None,
        )
        write_lines(order=order, items=items, price_field="unit_cost")
        if status != Status.DRAFT:
            _move_to(order=order, status=status, user=user)
    return order


def update_purchase_order(*, order: PurchaseOrder, user, changes: dict) -> PurchaseOrder:
    """Items and supplier change only while draft, notes and date until received or cancelled;
    a status in the changes moves the order after the edits, all in one transaction."""
    changes = dict(changes)
    status = changes.pop("status", None)
    items = changes.pop("items", None)
    with references_checked(message=GONE, field="items"):
        order = lock_purchase_order(order.pk)
        if (items is not None or "supplier" in changes) and order.status != Status.DRAFT:
            raise Conflict(
                f"The items and supplier of a {order.status} purchase order cannot be changed."
            )
        if changes.keys() & {"notes", "expected_date"} and order.status in (
            Status.RECEIVED,
            Status.CANCELLED,
        ):
            raise Conflict(f"A {order.status} purchase order cannot be edited.")
        for field, value in changes.items():
            setattr(order, field, value)
        if changes:
            order.save(update_fields=[*changes.keys(), "updated_at"])
        if items is not None:
            order.items.all().delete()
            write_lines(order=order, items=items, price_field="unit_cost")
        if status is not None:
            _move_to(order=order, status=status, user=user)
    return order


def delete_purchase_order(*, order: PurchaseOrder) -> None:
    """Only a draft can be deleted."""
    delete_open_order(order, open_status=Status.DRAFT, noun="purchase order")
