"""Reads of sales orders, with their totals computed by the database."""

from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from core.fields import MONEY_TOTAL
from orders.selectors import orders_with_totals, with_totals_as_written
from sales.models import CustomerReturn, CustomerReturnLine, SalesOrder, SalesOrderItem
from stock.selectors import movements_with_details


def sales_orders_with_totals() -> QuerySet[SalesOrder]:
    """Orders with `total_amount` and their lines with `line_total` (quantity * unit_price);
    once fulfilled, `total_cost` (the lines' cost of goods sold) and `gross_margin`."""
    costs = (
        SalesOrderItem.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("line_cost"))
        .values("total")
    )
    fulfilled = Q(status=SalesOrder.Status.FULFILLED)
    return orders_with_totals(SalesOrder, total="total_amount").annotate(
        total_cost=Case(
            When(fulfilled, then=Coalesce(Subquery(costs), Value(Decimal(0)))),
            output_field=MONEY_TOTAL,
        ),
        gross_margin=ExpressionWrapper(F("total_amount") - F("total_cost"), MONEY_TOTAL),
    )


def sales_order_as_written(order: SalesOrder) -> SalesOrder | None:
    """An order this request just wrote (created, and fulfilled if it was asked to be) with
    what `sales_orders_with_totals` would read back, from its lines in memory; None when they
    are not there. (tests/sales/test_sales_orders.py holds it to the read-back's answer.)"""
    if with_totals_as_written(order, total="total_amount") is None:
        return None
    order.total_cost = order.gross_margin = None
    if order.status == SalesOrder.Status.FULFILLED:
        costs = [line.line_cost for line in order.items.all() if line.line_cost is not None]
        order.total_cost = sum(costs, Decimal(0))
        order.gross_margin = order.total_amount - order.total_cost
    return order


def _line_total():
    return ExpressionWrapper(F("quantity") * F("unit_price"), output_field=MONEY_TOTAL)


def customer_returns(*, sales_order=None) -> QuerySet[CustomerReturn]:
    """Customer returns, newest first, with their lines (`line_total`), `total_amount` and
    movements, in constant queries; of one order, or of every order."""
    totals = (
        CustomerReturnLine.objects.filter(customer_return=OuterRef("pk"))
        .order_by()
        .values("customer_return")
        .annotate(total=Sum(_line_total()))
        .values("total")
    )
    returns = CustomerReturn.objects.select_related("created_by").annotate(
        total_amount=Coalesce(Subquery(totals), Value(0), output_field=DecimalField())
    )
    if sales_order is not None:
        returns = returns.filter(sales_order=sales_order)
    lines = CustomerReturnLine.objects.select_related("item").annotate(line_total=_line_total())
    return returns.prefetch_related(
        Prefetch("lines", queryset=lines),
        Prefetch("movements", queryset=movements_with_details().order_by("id")),
    ).order_by("-created_at", "-id")
