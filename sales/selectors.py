"""Reads of sales orders, with their totals computed by the database."""

from django.db.models import QuerySet

from orders.selectors import orders_with_totals
from sales.models import SalesOrder


def sales_orders_with_totals() -> QuerySet[SalesOrder]:
    """Orders with `total_amount` and their lines with `line_total` (quantity * unit_price)."""
    return orders_with_totals(SalesOrder, total="total_amount")
