"""Dashboard and sales figures, each computed by the database in one query (SQL aggregates).

Stock is valued at `quantity * price` (what it sells for) and at `quantity * average_cost`
(what it cost); sales at their lines' prices, and at the cost of goods sold each fulfilled line
recorded (`line_cost`): every cost figure traces back to the ledger's movements.
"""

import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DateField, F, IntegerField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Trunc

from core.cache import cached_version, figures_key, store
from core.dates import local_today, within_utc_dates
from core.fields import MONEY_TOTAL
from inventory.models import Category
from inventory.selectors import (
    LOW_STOCK,
    OUT_OF_STOCK,
    STOCK_KEEPING,
    expired_by,
    most_urgent_low_stock,
    stock_keeping_products,
)
from sales.models import CustomerReturnLine, SalesOrder, SalesOrderItem
from stock.models import Location, Lot, StockLevel
from stock.selectors import expired_level, with_stock_figures

ZERO_MONEY = Value(0, output_field=MONEY_TOTAL)
ZERO = Value(0, output_field=IntegerField())


def _money_sum(expression, **kwargs):
    return Coalesce(
        Sum(expression, output_field=MONEY_TOTAL, **kwargs), ZERO_MONEY, output_field=MONEY_TOTAL
    )


def _int_sum(expression, **kwargs):
    return Coalesce(Sum(expression, **kwargs), ZERO, output_field=IntegerField())


def expired_stock_value(*, organization_id: int, today: datetime.date) -> Decimal:
    """`expired_quantity * price` summed over the stock-keeping products: the stock of lots
    expired by today, and the whole stock of the other products whose date has come. Two scans
    of the expiry indexes (of lots, of products), not a join of every level."""
    whole = (
        stock_keeping_products(organization_id=organization_id)
        .filter(expired_by(today), track_lots=False, quantity__gt=0)
        .aggregate(value=_money_sum(F("quantity") * F("price")))["value"]
    )
    in_lots = Lot.objects.filter(
        expired_by(today),
        organization_id=organization_id,
        quantity__gt=0,
        product__is_archived=False,
        product__has_variations=False,
    ).aggregate(value=_money_sum(F("quantity") * F("product__price")))["value"]
    return whole + in_lots


def inventory_totals(*, organization_id: int, today: datetime.date | None = None) -> dict:
    """The dashboard's totals over stock-keeping, non-archived products, in three queries."""
    today = today or local_today(organization_id)
    products = stock_keeping_products(organization_id=organization_id)
    totals = products.aggregate(
        total_products=Count("id"),
        total_quantity=_int_sum("quantity"),
        total_inventory_value=_money_sum(F("quantity") * F("price")),
        total_cost_value=_money_sum(F("quantity") * F("average_cost")),
        low_stock_count=Count("id", filter=LOW_STOCK),
        out_of_stock_count=Count("id", filter=OUT_OF_STOCK),
    )
    expired = expired_stock_value(organization_id=organization_id, today=today)
    return {**totals, "expired_stock_value": expired}


def category_figures(*, organization_id: int) -> QuerySet:
    """Stock-keeping products' figures per category id (None: no category), grouped in SQL.

    Grouping the organization's own products by `category_id` reads only its rows; joining
    from categories would read every organization's products.
    """
    return (
        stock_keeping_products(organization_id=organization_id)
        .values("category_id")
        .annotate(
            product_count=Count("id"),
            total_quantity=_int_sum("quantity"),
            total_value=_money_sum(F("quantity") * F("price")),
            total_cost_value=_money_sum(F("quantity") * F("average_cost")),
        )
        .order_by()
    )


def _levels_at(*, organization_id: int, location_id: int) -> QuerySet[StockLevel]:
    """The levels at one location of the organization's stock-keeping products."""
    return StockLevel.objects.filter(
        organization_id=organization_id,
        location_id=location_id,
        product__is_archived=False,
        product__has_variations=False,
    )


def location_totals(*, organization_id: int, location_id: int, today: datetime.date) -> dict:
    """The totals of the products kept at one location (a level there, even at 0), each by its
    stock there: low when what is available there is at or below its threshold, out of stock
    when none is there. One query (the levels grouped per product, then summed)."""
    levels = _levels_at(organization_id=organization_id, location_id=location_id)
    value = F("quantity") * F("product__price")
    per_product = levels.values("product_id").annotate(
        here=Sum("quantity"),
        available_here=Sum(F("quantity") - F("allocated")),
        value_here=_money_sum(value),
        cost_here=_money_sum(F("quantity") * F("product__average_cost")),
        expired_here=_money_sum(value, filter=expired_level(today)),
        threshold=Max("product__low_stock_threshold"),
    )
    return per_product.aggregate(
        total_products=Count("product_id"),
        total_quantity=_int_sum("here"),
        total_inventory_value=_money_sum("value_here"),
        total_cost_value=_money_sum("cost_here"),
        expired_stock_value=_money_sum("expired_here"),
        low_stock_count=Count("product_id", filter=Q(available_here__lte=F("threshold"))),
        out_of_stock_count=Count("product_id", filter=Q(here=0)),
    )


def location_category_figures(*, organization_id: int, location_id: int) -> QuerySet:
    """Per category id, the products kept at the location and their stock there."""
    return (
        _levels_at(organization_id=organization_id, location_id=location_id)
        .values(category_id=F("product__category_id"))
        .annotate(
            product_count=Count("product_id", distinct=True),
            total_quantity=_int_sum("quantity"),
            total_value=_money_sum(F("quantity") * F("product__price")),
            total_cost_value=_money_sum(F("quantity") * F("product__average_cost")),
        )
        .order_by()
    )


def dashboard(
    *, organization_id: int, location_id: int | None = None, today: datetime.date | None = None
) -> dict:
    """The whole dashboard in four queries: totals, figures per category, category names.
    With `location_id`, every figure counts the stock at that location only.

    Every category is listed by name (empty ones with zeros); products without a category are
    one more entry with `"id": None` (when there are any).
    """
    today = today or local_today(organization_id)
    if location_id is None:
        totals = inventory_totals(organization_id=organization_id, today=today)
        rows = category_figures(organization_id=organization_id)
    else:
        totals = location_totals(
            organization_id=organization_id, location_id=location_id, today=today
        )
        rows = location_category_figures(organization_id=organization_id, location_id=location_id)
    figures = {row.pop("category_id"): row for row in rows}
    empty = {
        "product_count": 0,
        "total_quantity": 0,
        "total_value": Decimal("0.00"),
        "total_cost_value": Decimal("0.00"),
    }
    categories = [
        {**category, **figures.get(category["id"], empty)}
        for category in Category.objects.filter(organization_id=organization_id)
        .order_by("name", "id")
        .values("id", "name")
    ]
    if None in figures:
        categories.append({"id": None, "name": None, **figures[None]})
    return {**totals, "categories": categories}


# How long a dashboard stays cached at most: every change that it counts moves its version on at
# once (core.cache.figures_changed), this only bounds what a lost version move could leave.
DASHBOARD_SECONDS = 300


def cached_dashboard(*, organization_id: int, location_id: int | None = None) -> dict:
    """`dashboard`, kept in the shared cache until the organization's stock, products or
    categories change (their services move `figures_key` on, after commit, before the changing
    request answers) or the UTC day ends: a page of the dashboard does not read the whole
    catalogue each time."""
    today = local_today(organization_id)
    key = f"dashboard:{organization_id}:{location_id}:{today}"
    figures, version = cached_version(key, version_key=figures_key(organization_id))
    if figures is None:
        figures = dashboard(organization_id=organization_id, location_id=location_id, today=today)
        store(key, version, figures, timeout=DASHBOARD_SECONDS)
    return figures


def location_figures(*, organization_id: int) -> list[dict]:
    """Every live location of the organization (by name, empty ones with zeros) with the stock
    of stock-keeping products there: `id`, `name`, `total_quantity`, `total_value` (at price)
    and `total_cost_value` (at average cost). One query: the levels grouped per location. The
    locations' values add up to the dashboard's totals (a product's quantity is its levels')."""
    kept = Q(levels__product__is_archived=False, levels__product__has_variations=False)
    return list(
        Location.objects.filter(organization_id=organization_id, is_archived=False)
        .annotate(
            total_quantity=_int_sum("levels__quantity", filter=kept),
            total_value=_money_sum(
                F("levels__quantity") * F("levels__product__price"), filter=kept
            ),
            total_cost_value=_money_sum(
                F("levels__quantity") * F("levels__product__average_cost"), filter=kept
            ),
        )
        .order_by("name", "id")
        .values("id", "name", "total_quantity", "total_value", "total_cost_value")
    )


def low_stock_list(products: QuerySet, *, organization_id: int, today=None):
    """The low-stock ones among an organization's products, with their stock figures (as of
    its today), most urgent (largest shortfall below the threshold) first."""
    return with_stock_figures(
        most_urgent_low_stock(products.filter(STOCK_KEEPING)),
        today=today or local_today(organization_id),
    ).select_related("category")


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
    return within_utc_dates(
        lines, field="order__fulfilled_at", date_from=date_from, date_to=date_to
    )


def _sales_figures(*, orders: bool = True) -> dict:
    """What the sales reports sum over fulfilled lines: orders, units, revenue and the cost of
    goods sold that the lines recorded at fulfilment."""
    figures = {
        "total_quantity": _int_sum("quantity"),
        "total_revenue": _money_sum(F("quantity") * F("unit_price")),
        "total_cost": _money_sum("line_cost"),
    }
    if orders:
        figures = {"order_count": Count("order_id", distinct=True), **figures}
    return figures


def total_sales(
    *,
    organization_id: int,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> dict:
    """Fulfilled orders within the dates (how many, how many units, how much money, what the
    goods cost and the margin), and the customer returns created within them: units and money
    that came back, and the revenue net of them."""
    figures = _fulfilled_lines(
        organization_id=organization_id, date_from=date_from, date_to=date_to
    ).aggregate(**_sales_figures())
    figures["gross_margin"] = figures["total_revenue"] - figures["total_cost"]
    returned = within_utc_dates(
        CustomerReturnLine.objects.filter(customer_return__organization_id=organization_id),
        field="customer_return__created_at",
        date_from=date_from,
        date_to=date_to,
    ).aggregate(
        returned_quantity=_int_sum("quantity"),
        returned_amount=_money_sum(F("quantity") * F("unit_price")),
    )
    return {
        **figures,
        **returned,
        "net_revenue": figures["total_revenue"] - returned["returned_amount"],
    }


def top_products(
    *,
    organization_id: int,
    limit: int = 10,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> list[dict]:
    """Best sellers by quantity (then revenue, then id) from fulfilled orders within the dates.

    Rows: `product_id`, `product__sku`, `product__name`, `quantity_sold`, `revenue`,
    `total_cost` (of the goods sold) and `gross_margin`.
    """
    figures = _sales_figures(orders=False)
    return list(
        _fulfilled_lines(organization_id=organization_id, date_from=date_from, date_to=date_to)
        .values("product_id", "product__sku", "product__name")
        .annotate(
            quantity_sold=figures["total_quantity"],
            revenue=figures["total_revenue"],
            total_cost=figures["total_cost"],
            gross_margin=F("revenue") - F("total_cost"),
        )
        .order_by("-quantity_sold", "-revenue", "product_id")[:limit]
    )


# --- Sales over time -----------------------------------------------------------------------------

INTERVALS = ("day", "week", "month")  # weeks start on Monday (ISO 8601, and PostgreSQL's)
MAX_PERIODS = 366


def period_start(day: datetime.date, interval: str) -> datetime.date:
    """The first date of the period (of `interval`) that holds `day`."""
    if interval == "week":
        return day - datetime.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def period_count(date_from: datetime.date, date_to: datetime.date, interval: str) -> int:
    """How many periods of `interval` the dates (inclusive) touch."""
    first, last = period_start(date_from, interval), period_start(date_to, interval)
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days // (7 if interval == "week" else 1) + 1


def _periods_sql(first: datetime.date, last: datetime.date, interval: str):
    """SQL for the periods' first dates from `first` to `last`, one row each, made by the
    database: `generate_series` on PostgreSQL, a recursive CTE on SQLite."""
    if connection.vendor == "postgresql":
        return (
            "SELECT generate_series(%s::timestamp, %s::timestamp, %s::interval) AS period",
            [first, last, f"1 {interval}"],
        )
    step = {"day": "+1 day", "week": "+7 days", "month": "+1 month"}[interval]
    return (
        "WITH RECURSIVE periods(period) AS (SELECT %s UNION ALL SELECT date(period, %s) "
        "FROM periods WHERE date(period, %s) <= %s) SELECT period FROM periods",
        [first.isoformat(), step, step, last.isoformat()],
    )


def sales_over_time(
    *,
    organization_id: int,
    date_from: datetime.date,
    date_to: datetime.date,
    interval: str = "day",
) -> list[dict]:
    """Fulfilled sales per period (UTC) within the dates, inclusive, oldest first, one row per
    period including the empty ones: `period` (its first date), `order_count`,
    `total_quantity`, `total_revenue`, `total_cost` and `gross_margin`. One query: the lines
    grouped per period, joined to the periods the database generates."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}")
    sales = (
        _fulfilled_lines(organization_id=organization_id, date_from=date_from, date_to=date_to)
        .annotate(
            period=Trunc(
                "order__fulfilled_at", interval, output_field=DateField(), tzinfo=datetime.UTC
            )
        )
        .values("period")
        .annotate(**_sales_figures())
        .values_list("period", *_sales_figures())
        .order_by()
    )
    sales_sql, sales_params = sales.query.sql_with_params()
    periods_sql, periods_params = _periods_sql(
        period_start(date_from, interval), period_start(date_to, interval), interval
    )
    sql = (
        f"SELECT p.period, s.order_count, s.total_quantity, s.total_revenue, s.total_cost "
        f"FROM ({periods_sql}) p LEFT JOIN ({sales_sql}) s ON s.period = p.period "
        f"ORDER BY p.period"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*periods_params, *sales_params])
        rows = cursor.fetchall()
    return [_period_row(*row) for row in rows]


def _period_row(period, order_count, quantity, revenue, cost) -> dict:
    """One period's figures as Python values (SQLite hands back text dates and float sums)."""
    if isinstance(period, str):
        period = datetime.date.fromisoformat(period[:10])
    elif isinstance(period, datetime.datetime):
        period = period.date()
    revenue, cost = _money(revenue), _money(cost)
    return {
        "period": period,
        "order_count": order_count or 0,
        "total_quantity": quantity or 0,
        "total_revenue": revenue,
        "total_cost": cost,
        "gross_margin": revenue - cost,
    }


def _money(value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):  # SQLite sums decimals as floats
        value = Decimal(repr(value))
    return Decimal(value).quantize(Decimal("0.01"))
