"""Reads of purchase orders, with their totals computed by the database."""

from django.db.models import Prefetch, QuerySet

from orders.selectors import orders_with_totals
from purchases.models import PurchaseOrder, Receipt, ReceiptLine, SupplierReturn, SupplierReturnLine
from stock.selectors import movements_with_details


def purchase_orders_with_totals() -> QuerySet[PurchaseOrder]:
    """Orders with `total_cost` and their lines with `line_total` (quantity * unit_cost)."""
    return orders_with_totals(PurchaseOrder, total="total_cost")


def receipts_of(order: PurchaseOrder) -> QuerySet[Receipt]:
    """An order's receipts, oldest first, with their lines and movements (constant queries)."""
    return (
        Receipt.objects.filter(purchase_order=order)
        .select_related("created_by")
        .prefetch_related(
            Prefetch("lines", queryset=ReceiptLine.objects.select_related("item__product")),
            Prefetch("movements", queryset=movements_with_details().order_by("id")),
        )
        .order_by("id")
    )


def supplier_returns_of(order: PurchaseOrder) -> QuerySet[SupplierReturn]:
    """An order's returns to the supplier, oldest first, with lines and movements."""
    lines = SupplierReturnLine.objects.select_related("item__product")
    return (
        SupplierReturn.objects.filter(purchase_order=order)
        .select_related("created_by")
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            Prefetch("movements", queryset=movements_with_details().order_by("id")),
        )
        .order_by("id")
    )
