"""Dashboard and sales figures, each computed by the database in one query (SQL aggregates)."""

import datetime

from django.db.models import Count, DecimalField, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from inventory.models import Category
from inventory.selectors import (
    low_stock_products,
    stock_keeping_products,
    utc_today,
    with_stock_figures,
)
from sales.models import SalesOrder, SalesOrderItem

MONEY = DecimalField(max_digits=24, decimal_places=2)
ZERO_MONEY = Value(0, output_field=MONEY)
ZERO = Value(0, output_field=IntegerField())


def _money_sum(expression, **kwargs):
    return Coalesce(Sum(expression, output_field=MONEY, **kwargs), ZERO_MONEY, output_field=MONEY)


def _int_sum(expression, **kwargs):
    return Coalesce(Sum(expression, **kwargs), ZERO, output_field=IntegerField())


def inventory_totals(*, organization_id: int, today: datetime.date | None = None) -> dict:
    """The dashboard's totals over stock-keeping, non-archived products, in one query.

    Also returns the figures of the products without a category (`uncategorized_*`).
    """
    today = today or utc_today()
    value = F("quantity") * F("price")
    expired = Q(expiration_date__lte=today)
    uncategorized = Q(category__isnull=True)
    return stock_keeping_products(organization_id=organization_id).aggregate(
        total_products=Count("id"),
        total_quantity=_int_sum("quantity"),
        total_inventory_value=_money_sum(value),
        expired_stock_value=_money_sum(value, filter=expired),
        low_stock_count=Count("id", filter=Q(quantity__lte=F("low_stock_threshold"))),
        out_of_stock_count=Count("id", filter=Q(quantity=0)),
        uncategorized_product_count=Count("id", filter=uncategorized),
        uncategorized_total_quantity=_int_sum("quantity", filter=uncategorized),
        uncategorized_total_value=_money_sum(value, filter=uncategorized),
    )


def category_figures(*, organization_id: int) -> QuerySet[Category]:
    """Every category of the organization with its stock-keeping products' figures, by name."""
    counted = Q(products__is_archived=False, products__has_variations=False)
    return (
        Category.objects.filter(organization_id=organization_id)
        .annotate(
            product_count=Count("products", filter=counted),
            total_quantity=_int_sum("products__quantity", filter=counted),
            total_value=_money_sum(F("products__quantity") * F("products__price"), filter=counted),
        )
        .order_by("name", "id")
    )


def dashboard(*, organization_id: int, today: datetime.date | None = None) -> dict:
    """The whole dashboard in two queries: totals, and the per-category breakdown.

    Products without a category are one more entry with `"id": None` (when there are any).
    """
    totals = inventory_totals(organization_id=organization_id, today=today)
    categories = list(
        category_figures(organization_id=organization_id).values(
            "id", "name", "product_count", "total_quantity", "total_value"
        )
    )
    uncategorized = {
        "id": None,
        "name": None,
        "product_count": totals.pop("uncategorized_product_count"),
        "total_quantity": totals.pop("uncategorized_total_quantity"),
        "total_value": totals.pop("uncategorized_total_value"),
    }
    if uncategorized["product_count"]:
        categories.append(uncategorized)
    return {**totals, "categories": categories}


def low_stock_list(*, organization_id: int, today: datetime.date | None = None):
    """Low-stock products with their stock figures, most urgent (largest shortfall) first."""
    return (
        with_stock_figures(low_stock_products(organization_id=organization_id), today=today)
        .select_related("category")
        .annotate(shortfall=F("low_stock_threshold") - F("quantity"))
        .order_by("-shortfall", "id")
    )


def _fulfilled_lines(
    *,
    organization_id: int,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
) -> QuerySet[SalesOrderItem]:
    """Lines of fulfilled orders whose `fulfilled_at` UTC date is within the dates (inclusive).

    The dates become a half-open UTC timestamp range so the partial index on
    (organization, fulfilled_at) of fulfilled orders serves it.
    """
    lines = SalesOrderItem.objects.filter(
        order__organization_id=organization_id, order__status=SalesOrder.Status.FULFILLED
    )
    if date_from is not None:
        start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=datetime.UTC)
        lines = lines.filter(order__fulfilled_at__gte=start)
    if date_to is not None and date_to < datetime.date.max:
        end = datetime.datetime.combine(
            date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC
        )
        lines = lines.filter(order__fulfilled_at__lt=end)
    return lines


def total_sales(
    *,
    organization_id: int,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> dict:
    """Fulfilled orders within the dates: how many, how many units, how much money."""
    return _fulfilled_lines(
        organization_id=organization_id, date_from=date_from, date_to=date_to
    ).aggregate(
        order_count=Count("order_id", distinct=True),
        total_quantity=_int_sum("quantity"),
        total_revenue=_money_sum(F("quantity") * F("unit_price")),
    )


def top_products(
    *,
    organization_id: int,
    limit: int = 10,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> list[dict]:
    """Best sellers by quantity (then revenue, then id) from fulfilled orders within the dates.

    Rows: `product_id`, `product__sku`, `product__name`, `quantity_sold`, `revenue`.
    """
    return list(
        _fulfilled_lines(organization_id=organization_id, date_from=date_from, date_to=date_to)
        .values("product_id", "product__sku", "product__name")
        .annotate(
            quantity_sold=_int_sum("quantity"),
            revenue=_money_sum(F("quantity") * F("unit_price")),
        )
        .order_by("-quantity_sold", "-revenue", "product_id")[:limit]
    )
