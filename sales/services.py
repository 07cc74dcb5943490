"""Sales orders: numbering, editing and status moves; fulfilling takes every line or none."""

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
from sales.models import SalesOrder
from stock.models import StockMovement
from stock.services import take_out_of_stock
from users.models import Organization

GONE = "A product this order refers to was deleted meanwhile."
Status = SalesOrder.Status


def lock_sales_order(pk: int) -> SalesOrder:
    """The order, locked: its status moves happen one at a time."""
    return lock_order(SalesOrder, pk)


def _move_to(*, order: SalesOrder, status: str, user) -> None:
    """Apply one status move of the TRANSITIONS table to a locked order; fulfilling takes
    every line out of stock (one OUT movement each), or none if any line is short."""
    if not needs_move(order, status, unchanged=(Status.PENDING,), noun="sales order"):
        return
    if status == Status.FULFILLED:
        take_out_of_stock(
            lines=stock_lines(order),
            source=StockMovement.Source.SALES_ORDER,
            reference=order.reference,
            user=user,
            field="items",
        )
        order.fulfilled_at = timezone.now()
    order.status = status
    order.save(update_fields=["status", "fulfilled_at", "updated_at"])


def _product_price(product):
    return product.price


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
            number=next_order_number(SalesOrder, organization_id=organization.pk),
            customer_name=customer_name,
            customer_email=customer_email,
            created_by=user if getattr(user, "pk", None) else None,
        )
        write_lines(
            order=order, items=items, price_field="unit_price", default_price=_product_price
        )
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
            write_lines(
                order=order, items=items, price_field="unit_price", default_price=_product_price
            )
        if status is not None:
            _move_to(order=order, status=status, user=user)
    return order


def delete_sales_order(*, order: SalesOrder) -> None:
    """Only a pending order can be deleted."""
    delete_open_order(order, open_status=Status.PENDING, noun="sales order")
