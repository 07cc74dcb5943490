"""Sales orders: numbering, editing and status moves; fulfilling takes every line or none."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.db import references_checked
from config.errors import Conflict
from sales.models import SalesOrder, SalesOrderItem
from stock.models import StockMovement
from stock.services import StockLine, ensure_stock_keeping, take_out_of_stock
from users.models import Organization

GONE = "A product this order refers to was deleted meanwhile."
Status = SalesOrder.Status


def next_sales_order_number(*, organization_id: int) -> int:
    """The organization's next SO number; its row lock makes concurrent creators queue up."""
    Organization.objects.select_for_update(no_key=True).only("pk").get(pk=organization_id)
    last = SalesOrder.objects.filter(organization_id=organization_id).aggregate(m=Max("number"))
    return (last["m"] or 0) + 1


def lock_sales_order(pk: int) -> SalesOrder:
    """SELECT ... FOR NO KEY UPDATE the order: its status moves happen one at a time."""
    return SalesOrder.objects.select_for_update(of=("self",), no_key=True).get(pk=pk)


def _write_items(*, order: SalesOrder, items: list[dict]) -> None:
    """Store the lines; a line without a unit price sells at the product's price."""
    for item in items:
        ensure_stock_keeping(product=item["product"], field="items")
    SalesOrderItem.objects.bulk_create(
        SalesOrderItem(
            order=order,
            product=item["product"],
            quantity=item["quantity"],
            unit_price=(
                item["product"].price if item.get("unit_price") is None else item["unit_price"]
            ),
        )
        for item in items
    )


def _move_to(*, order: SalesOrder, status: str, user) -> None:
    """Apply one status move of the TRANSITIONS table to a locked order."""
    if status == order.status == Status.PENDING:
        return
    if status not in SalesOrder.TRANSITIONS[order.status]:
        raise Conflict(f"A {order.status} sales order cannot become {status}.")
    if status == Status.FULFILLED:
        lines = [
            StockLine(product_id=product_id, quantity=quantity)
            for product_id, quantity in order.items.order_by("id").values_list(
                "product_id", "quantity"
            )
        ]
        take_out_of_stock(
            lines=lines,
            source=StockMovement.Source.SALES_ORDER,
            reference=order.reference,
            user=user,
            field="items",
        )
        order.fulfilled_at = timezone.now()
    order.status = status
    order.save(update_fields=["status", "fulfilled_at", "updated_at"])


def create_sales_order(
    *,
    organization: Organization,
    user,
    items: list[dict],
    status: str = Status.PENDING,
    customer_name: str = "",
    customer_email: str = "",
) -> SalesOrder:
    """Number the order SO-nnnnn and store its lines; created as fulfilled, it takes the stock
    too, or nothing is stored at all."""
    with references_checked(message=GONE, field="items"):
        order = SalesOrder.objects.create(
            organization=organization,
            number=next_sales_order_number(organization_id=organization.pk),
            customer_name=customer_name,
            customer_email=customer_email,
            created_by=user if getattr(user, "pk", None) else None,
        )
        _write_items(order=order, items=items)
        if status != Status.PENDING:
            _move_to(order=order, status=status, user=user)
    return order


def update_sales_order(*, order: SalesOrder, user, changes: dict) -> SalesOrder:
    """Items and customer change only while pending; a status in the changes moves the order
    after the edits, all in one transaction."""
    changes = dict(changes)
    status = changes.pop("status", None)
    items = changes.pop("items", None)
    with references_checked(message=GONE, field="items"):
        order = lock_sales_order(order.pk)
        if (items is not None or changes) and order.status != Status.PENDING:
            raise Conflict(f"A {order.status} sales order cannot be edited.")
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


def delete_sales_order(*, order: SalesOrder) -> None:
    """Only a pending order can be deleted."""
    with transaction.atomic():
        order = lock_sales_order(order.pk)
        if order.status != Status.PENDING:
            raise Conflict(f"A {order.status} sales order cannot be deleted.")
        order.delete()
