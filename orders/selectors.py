"""Reads of orders, with their totals computed by the database."""

from decimal import Decimal, localcontext

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

from core.fields import MONEY_TOTAL, MONEY_TOTAL_DIGITS
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


def with_totals_as_written(order: Order, *, total: str) -> Order | None:
    """An order this request just wrote, with what `orders_with_totals` would read back (each
    line's `line_total`, the order's `total`) computed from its lines in memory (those
    `write_lines` stored, as the database holds them: integer quantities, 2-place prices), so
    the answer needs no query; the sums are exact, as the database's. None when its lines are
    not in memory."""
    written = getattr(order, "_prefetched_objects_cache", {}).get("items")
    if written is None:
        return None
    lines = sorted(written, key=lambda line: line.pk)
    with localcontext(prec=2 * MONEY_TOTAL_DIGITS):
        for line in lines:
            line.line_total = line.quantity * getattr(line, written.model.PRICE_FIELD)
        setattr(order, total, sum((line.line_total for line in lines), Decimal("0.00")))
    written._result_cache = lines
    return order
