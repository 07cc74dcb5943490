"""Reads of purchase orders, with their totals computed by the database."""

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

from purchases.models import PurchaseOrder, PurchaseOrderItem

MONEY = DecimalField(max_digits=30, decimal_places=2)


def _line_total():
    return ExpressionWrapper(F("quantity") * F("unit_cost"), output_field=MONEY)


def items_with_totals() -> QuerySet[PurchaseOrderItem]:
    """Order lines with `line_total` = quantity * unit_cost, in SQL."""
    return PurchaseOrderItem.objects.annotate(line_total=_line_total()).order_by("id")


def purchase_orders_with_totals() -> QuerySet[PurchaseOrder]:
    """Orders with `total_cost` (a per-order subquery, so counting a page stays cheap) and
    their lines, in a constant number of queries."""
    total = (
        PurchaseOrderItem.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(_line_total()))
        .values("total")
    )
    return (
        PurchaseOrder.objects.select_related("created_by")
        .annotate(
            total_cost=Coalesce(
                Subquery(total, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY
            )
        )
        .prefetch_related(Prefetch("items", queryset=items_with_totals()))
    )
