"""Dashboard and sales figures, each computed by the database in one query (SQL aggregates).

Stock is valued at `quantity * price` (what it sells for) and at `quantity * average_cost`
(what it cost); sales at their lines' prices, and at the cost of goods sold each fulfilled line
recorded (`line_cost`): every cost figure traces back to the ledger's movements. Customer
returns net out of the sales in the period they were recorded: their amount out of revenue,
and, for the units put back on the shelf, the cost their sale recorded out of the cost of goods
(API.md, Reports). Dates and periods are the organization's local ones (`core.dates`).
"""

import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, IntegerField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from core.cache import cached_version, figures_key, store
from core.dates import PERIODS, local_period, local_today, time_zone_of, within_local_dates
from core.db import reads_for_cache
from core.fields import money_sum
from inventory.models import Category, Product
from inventory.selectors import (
    LOW_STOCK,
    OUT_OF_STOCK,
    STOCK_KEEPING,
    most_urgent_low_stock,
    stock_keeping_products,
)
from sales.models import CustomerReturnLine, SalesOrder, SalesOrderItem
from stock.models import Location, StockLevel
from stock.selectors import expired_level, expired_stock_value, with_stock_figures

ZERO = Value(0, output_field=IntegerField())
_money_sum = money_sum


def _int_sum(expression, **kwargs):
    return Coalesce(Sum(expression, **kwargs), ZERO, output_field=IntegerField())


def inventory_totals(*, organization_id: int, today: datetime.date) -> dict:
    """The dashboard's totals over stock-keeping, non-archived products, in three queries."""
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
    *, organization_id: int, today: datetime.date, location_id: int | None = None
) -> dict:
    """The whole dashboard in four queries: totals, figures per category, category names.
    With `location_id`, every figure counts the stock at that location only.

    Every category is listed by name (empty ones with zeros); products without a category are
    one more entry with `"id": None` (when there are any). Expired stock is expired by
    `today`, the organization's.
    """
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


def cached_dashboard(*, organization, location_id: int | None = None) -> dict:
    """`dashboard` with the organization's `currency`, kept in the shared cache until the
    organization's stock, products, categories or settings change (their services move
    `figures_key` on, after commit, before the changing request answers) or its local day ends
    (the key holds its today): a page of the dashboard does not read the whole catalogue each
    time."""
    today = local_today(organization)
    key = f"dashboard:{organization.pk}:{location_id}:{today}"
    figures, version = cached_version(key, version_key=figures_key(organization.pk))
    if figures is None:
        # Never from a replica behind the version (core.db.reads_for_cache).
        with reads_for_cache():
            figures = dashboard(
                organization_id=organization.pk, location_id=location_id, today=today
            )
        store(key, version, figures, timeout=DASHBOARD_SECONDS)
    return {**figures, "currency": organization.currency}


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


def low_stock_list(products: QuerySet, *, today: datetime.date):
    """The low-stock ones among (an organization's) products, with their stock figures,
    most urgent (largest shortfall below the threshold) first."""
    return with_stock_figures(
        most_urgent_low_stock(products.filter(STOCK_KEEPING)), today=today
    ).select_related("category")


def _fulfilled_lines(
    *, organization, date_from: datetime.date | None, date_to: datetime.date | None
) -> QuerySet[SalesOrderItem]:
    """Lines of the organization's fulfilled orders whose `fulfilled_at` falls on its local
    dates date_from..date_to (inclusive): a half-open UTC range, so the partial index on
    (organization, fulfilled_at) of fulfilled orders serves it."""
    lines = SalesOrderItem.objects.filter(
        order__organization_id=organization.pk, order__status=SalesOrder.Status.FULFILLED
    )
    return within_local_dates(
        lines,
        field="order__fulfilled_at",
        organization=organization,
        date_from=date_from,
        date_to=date_to,
    )


def _returned_lines(
    *, organization, date_from: datetime.date | None, date_to: datetime.date | None
) -> QuerySet[CustomerReturnLine]:
    """Lines of the organization's customer returns recorded on its local dates date_from..
    date_to (inclusive), by the (organization, created_at) index."""
    lines = CustomerReturnLine.objects.filter(customer_return__organization_id=organization.pk)
    return within_local_dates(
        lines,
        field="customer_return__created_at",
        organization=organization,
        date_from=date_from,
        date_to=date_to,
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


def _returned_figures() -> dict:
    """What the reports sum over customer return lines: units and money that came back, and
    the cost their sales recorded for the units put back on the shelf (restocked: their cost
    of goods is undone; units returned without restocking are a loss and undo nothing)."""
    return {
        "returned_quantity": _int_sum("quantity"),
        "returned_amount": _money_sum(F("quantity") * F("unit_price")),
        "returned_cost": _money_sum("line_cost", filter=Q(customer_return__restock=True)),
    }


def _net(figures: dict) -> dict:
    """Revenue and margin net of returns (API.md, Reports): `net_revenue = total_revenue -
    returned_amount`, `net_margin = net_revenue - (total_cost - returned_cost)`."""
    net_revenue = figures["total_revenue"] - figures["returned_amount"]
    return {
        **figures,
        "gross_margin": figures["total_revenue"] - figures["total_cost"],
        "net_revenue": net_revenue,
        "net_margin": net_revenue - (figures["total_cost"] - figures["returned_cost"]),
    }


def total_sales(
    *,
    organization,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> dict:
    """Fulfilled orders within the organization's local dates (how many, how many units, how
    much money, what the goods cost and the margin), the customer returns recorded within them
    (units, money and the cost of the restocked ones), the revenue and margin net of them, and
    the organization's currency. Two queries."""
    sold = _fulfilled_lines(
        organization=organization, date_from=date_from, date_to=date_to
    ).aggregate(**_sales_figures())
    returned = _returned_lines(
        organization=organization, date_from=date_from, date_to=date_to
    ).aggregate(**_returned_figures())
    return {"currency": organization.currency, **_net({**sold, **returned})}


def top_products(
    *,
    organization,
    limit: int = 10,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> list[dict]:
    """Best sellers by units sold less returned within the dates (`net_quantity`), then net
    revenue, then id: every product sold or returned within them. One query: sales and returns
    grouped per product, then the best `limit` joined to their SKU and name.

    Rows: `product_id`, `product__sku`, `product__name`, `quantity_sold`, `revenue`,
    `total_cost` (of the goods sold), `gross_margin`, `returned_quantity`, `net_quantity`,
    `net_revenue`.
    """
    dates = {"organization": organization, "date_from": date_from, "date_to": date_to}
    sold = (
        _fulfilled_lines(**dates)
        .values("product_id")
        .annotate(
            units=Sum("quantity"),
            amount=Sum(F("quantity") * F("unit_price")),
            cost=Sum("line_cost"),
        )
        .values_list("product_id", "units", "amount", "cost")
        .order_by()
    )
    returned = (
        _returned_lines(**dates)
        .values(product_id=F("item__product_id"))
        .annotate(units=Sum("quantity"), amount=Sum(F("quantity") * F("unit_price")))
        .values_list("product_id", "units", "amount")
        .order_by()
    )
    sold_sql, sold_params = sold.query.sql_with_params()
    returned_sql, returned_params = returned.query.sql_with_params()
    product = connection.ops.quote_name(Product._meta.db_table)
    sql = f"""
        SELECT f.product_id, p.sku, p.name, f.quantity_sold, f.revenue, f.total_cost,
               f.returned_quantity, f.returned_amount
        FROM (
            SELECT product_id,
                   SUM(sold_quantity) AS quantity_sold, SUM(sold_amount) AS revenue,
                   SUM(sold_cost) AS total_cost,
                   SUM(returned_quantity) AS returned_quantity,
                   SUM(returned_amount) AS returned_amount,
                   SUM(sold_quantity) - SUM(returned_quantity) AS net_quantity,
                   SUM(sold_amount) - SUM(returned_amount) AS net_revenue
            FROM (
                SELECT s.product_id, s.units AS sold_quantity, s.amount AS sold_amount,
                       s.cost AS sold_cost, 0 AS returned_quantity, 0 AS returned_amount
                FROM ({sold_sql}) s
                UNION ALL
                SELECT r.product_id, 0, 0, 0, r.units, r.amount FROM ({returned_sql}) r
            ) AS moved
            GROUP BY product_id
            ORDER BY net_quantity DESC, net_revenue DESC, product_id
            LIMIT %s
        ) f
        JOIN {product} p ON p.id = f.product_id
        ORDER BY f.quantity_sold - f.returned_quantity DESC,
                 f.revenue - f.returned_amount DESC, f.product_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sold_params, *returned_params, limit])
        rows = cursor.fetchall()
    return [_product_row(*row) for row in rows]


def _product_row(product_id, sku, name, sold, revenue, cost, returned, returned_amount) -> dict:
    """One product's figures as Python values (SQLite sums decimals as floats)."""
    sold, returned = int(sold or 0), int(returned or 0)
    revenue, cost, returned_amount = _money(revenue), _money(cost), _money(returned_amount)
    return {
        "product_id": product_id,
        "product__sku": sku,
        "product__name": name,
        "quantity_sold": sold,
        "revenue": revenue,
        "total_cost": cost,
        "gross_margin": revenue - cost,
        "returned_quantity": returned,
        "net_quantity": sold - returned,
        "net_revenue": revenue - returned_amount,
    }


# --- Sales over time -----------------------------------------------------------------------------

INTERVALS = PERIODS  # weeks start on Monday (ISO 8601, and PostgreSQL's)
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
            "SELECT generate_series(%s::timestamp, %s::timestamp, %s::interval)::date AS period",
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
    organization,
    date_from: datetime.date,
    date_to: datetime.date,
    interval: str = "day",
) -> list[dict]:
    """Fulfilled sales and customer returns per local period (day, week or month in the
    organization's time zone) within its local dates, inclusive, oldest first, one row per
    period including the empty ones: `period` (its first date), `order_count`,
    `total_quantity`, `total_revenue`, `total_cost`, `gross_margin`, `returned_amount`,
    `returned_cost`, `net_revenue` and `net_margin` (returns in the period they were recorded).
    One query: the lines and the return lines grouped per local period (`core.dates`), joined
    to the periods the database generates."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}")
    tz = time_zone_of(organization)
    dates = {"organization": organization, "date_from": date_from, "date_to": date_to}
    sales = (
        _fulfilled_lines(**dates)
        .annotate(period=local_period("order__fulfilled_at", interval, tz=tz))
        .values("period")
        .annotate(**_sales_figures())
        .values_list("period", *_sales_figures())
        .order_by()
    )
    returned_figures = _returned_figures()
    del returned_figures["returned_quantity"]
    returns = (
        _returned_lines(**dates)
        .annotate(period=local_period("customer_return__created_at", interval, tz=tz))
        .values("period")
        .annotate(**returned_figures)
        .values_list("period", *returned_figures)
        .order_by()
    )
    sales_sql, sales_params = sales.query.sql_with_params()
    returns_sql, returns_params = returns.query.sql_with_params()
    periods_sql, periods_params = _periods_sql(
        period_start(date_from, interval), period_start(date_to, interval), interval
    )
    sql = (
        f"SELECT p.period, s.order_count, s.total_quantity, s.total_revenue, s.total_cost, "
        f"r.returned_amount, r.returned_cost "
        f"FROM ({periods_sql}) p LEFT JOIN ({sales_sql}) s ON s.period = p.period "
        f"LEFT JOIN ({returns_sql}) r ON r.period = p.period "
        f"ORDER BY p.period"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*periods_params, *sales_params, *returns_params])
        rows = cursor.fetchall()
    return [_period_row(*row) for row in rows]


def _period_row(period, order_count, quantity, revenue, cost, returned, returned_cost) -> dict:
    """One period's figures as Python values (SQLite hands back text dates and float sums)."""
    if isinstance(period, str):
        period = datetime.date.fromisoformat(period[:10])
    elif isinstance(period, datetime.datetime):
        period = period.date()
    figures = {
        "total_revenue": _money(revenue),
        "total_cost": _money(cost),
        "returned_amount": _money(returned),
        "returned_cost": _money(returned_cost),
    }
    return {
        "period": period,
        "order_count": order_count or 0,
        "total_quantity": quantity or 0,
        **_net(figures),
    }


def _money(value) -> Decimal:
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):  # SQLite sums decimals as floats
        value = Decimal(repr(value))
    return Decimal(value).quantize(Decimal("0.01"))
