"""Reads of orders, with their totals computed by the database."""

from decimal import Decimal

from django.db.models import (
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

from core.fields import MONEY_TOTAL
from orders.models import Order


def lines_with_totals(line_model) -> QuerySet:
    """Order lines with their product and `line_total` = quantity * price, in SQL."""
    line_total = F("quantity") * F(line_model.PRICE_FIELD)
    return (
        line_model.objects.select_related("product")
        .annotate(line_total=ExpressionWrapper(line_total, output_field=MONEY_TOTAL))
        .order_by("id")
    )


def orders_with_totals(model: type[Order], *, total: str) -> QuerySet:
    """Orders with their `total` (a per-order subquery, so counting a page stays cheap) and
    their lines with line totals, in a constant number of queries."""
    line_model = model._meta.get_field("items").related_model
    return (
        model.objects.select_related("created_by")
        .annotate(**{total: order_total(model)})
        .prefetch_related(Prefetch("items", queryset=lines_with_totals(line_model)))
    )


def order_total(model: type[Order]):
    """An order's total (the sum of its lines' quantity * price; 0.00 without lines) as an
    expression to annotate a queryset of `model` with: one subquery per order."""
    line_model = model._meta.get_field("items").related_model
    line_total = ExpressionWrapper(
        F("quantity") * F(line_model.PRICE_FIELD), output_field=MONEY_TOTAL
    )
    totals = (
        line_model.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(line_total))
        .values("total")
    )
    return Coalesce(
        Subquery(totals, output_field=MONEY_TOTAL), Value(Decimal("0.00")), output_field=MONEY_TOTAL
    )
