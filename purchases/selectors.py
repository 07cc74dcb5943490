"""Reads of purchase orders, with their totals computed by the database."""

from django.db.models import QuerySet

from orders.selectors import orders_with_totals
from purchases.models import PurchaseOrder


def purchase_orders_with_totals() -> QuerySet[PurchaseOrder]:
    """Orders with `total_cost` and their lines with `line_total` (quantity * unit_cost)."""
    return orders_with_totals(PurchaseOrder, total="total_cost")
