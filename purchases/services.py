"""Purchase orders: numbering, editing and status moves; receiving adds stock once."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.db import references_checked
from config.errors import Conflict
from purchases.models import PurchaseOrder, PurchaseOrderItem
from stock.models import StockMovement
from stock.services import StockLine, add_to_stock, ensure_stock_keeping
from users.models import Organization

GONE = "A product or supplier this order refers to was deleted meanwhile."
Status = PurchaseOrder.Status


def next_purchase_order_number(*, organization_id: int) -> int:
    """The organization's next PO number; its row lock makes concurrent creators queue up."""
    Organization.objects.select_for_update(no_key=True).only("pk").get(pk=organization_id)
    last = PurchaseOrder.objects.filter(organization_id=organization_id).aggregate(m=Max("number"))
    return (last["m"] or 0) + 1


def lock_purchase_order(pk: int) -> PurchaseOrder:
    """SELECT ... FOR NO KEY UPDATE the order: its status moves happen one at a time."""
    return PurchaseOrder.objects.select_for_update(of=("self",), no_key=True).get(pk=pk)


def _write_items(*, order: PurchaseOrder, items: list[dict]) -> None:
    for item in items:
        ensure_stock_keeping(product=item["product"], field="items")
    PurchaseOrderItem.objects.bulk_create(
        PurchaseOrderItem(
            order=order,
            product=item["product"],
            quantity=item["quantity"],
            unit_cost=item["unit_cost"],
        )
        for item in items
    )


def _move_to(*, order: PurchaseOrder, status: str, user) -> None:
    """Apply one status move of the TRANSITIONS table to a locked order."""
    if status == order.status and status in (Status.DRAFT, Status.SUBMITTED):
        return
    if status not in PurchaseOrder.TRANSITIONS[Status(order.status)]:
        raise Conflict(f"A {order.status} purchase order cannot become {status}.")
    if status == Status.RECEIVED:
        lines = [
            StockLine(product_id=product_id, quantity=quantity)
            for product_id, quantity in order.items.order_by("id").values_list(
                "product_id", "quantity"
            )
        ]
        add_to_stock(
            lines=lines,
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
            number=next_purchase_order_number(organization_id=organization.pk),
            supplier=supplier,
            expected_date=expected_date,
            notes=notes,
            created_by=user if getattr(user, "pk", None) else None,
        )
        _write_items(order=order, items=items)
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
            _write_items(order=order, items=items)
        if status is not None:
            _move_to(order=order, status=status, user=user)
    return order


def delete_purchase_order(*, order: PurchaseOrder) -> None:
    """Only a draft can be deleted."""
    with transaction.atomic():
        order = lock_purchase_order(order.pk)
        if order.status != Status.DRAFT:
            raise Conflict(f"A {order.status} purchase order cannot be deleted.")
        order.delete()
