"""Reads of sales orders, with their totals computed by the database."""

from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from sales.models import SalesOrder, SalesOrderItem

MONEY = DecimalField(max_digits=30, decimal_places=2)


def _line_total():
    return ExpressionWrapper(F("quantity") * F("unit_price"), output_field=MONEY)


def items_with_totals() -> QuerySet[SalesOrderItem]:
    """Order lines with `line_total` = quantity * unit_price, in SQL."""
    return SalesOrderItem.objects.annotate(line_total=_line_total()).order_by("id")


def sales_orders_with_totals() -> QuerySet[SalesOrder]:
    """Orders with `total_amount` (a per-order subquery, so counting a page stays cheap) and
    their lines, in a constant number of queries."""
    total = (
        SalesOrderItem.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(_line_total()))
        .values("total")
    )
    return (
        SalesOrder.objects.select_related("created_by")
        .annotate(
            total_amount=Coalesce(
                Subquery(total, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY
            )
        )
        .prefetch_related(Prefetch("items", queryset=items_with_totals()))
    )
