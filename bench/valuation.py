"""Valuation reports at scale: the dashboard (stock at price and at cost) and a year of sales by
the shop's local day, net of customer returns, each against the raw SQL aggregate of the same
figures, run side by side.

Run (PostgreSQL only):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/1 \
        SECRET_KEY=x .venv/bin/python -m bench valuation

It seeds catalogue_scale's shop (1,000,000 products, 3,000,000 movements by default; the same
BENCH_SCALE_* settings, and BENCH_SCALE_KEEPDB=1 reuses a database either benchmark kept) and
adds BENCH_VALUATION_ORDERS fulfilled sales orders (default 200,000, two lines each, with their
unit cost and cost of goods) spread over the last 400 days, and a customer return of one in
twenty of them (a line's first unit; every other one restocked). The shop lives in
BENCH_VALUATION_TIME_ZONE (default Pacific/Auckland: its local days are not UTC's, and it
changes its clocks twice a year). Then, BENCH_SCALE_RUNS times each,
alternating, it times the API request (in-process, authenticated) and the hand-written SQL
aggregate that answers the same question, and prints both medians and their ratio (goal:
the API within 1.5x of the raw SQL).
"""

import datetime
import os
import statistics
import time

from bench.catalogue_scale import _env_int, scale_shop

ORDERS = """
INSERT INTO sales_salesorder (
    organization_id, number, location_id, created_by_id, created_at, updated_at, customer_name,
    customer_email, status, confirmed_at, fulfilled_at
)
SELECT %(organization)s, g, %(main)s, NULL, at, at, '', '', 'fulfilled', NULL, at
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g,
     LATERAL (SELECT now() - make_interval(secs => (g * 7919) %% (400 * 86400)) AS at) AS t
"""
LINES = """
INSERT INTO sales_salesorderitem (
    order_id, product_id, quantity, unit_price, returned_quantity, unit_cost, line_cost
)
SELECT o.id, p.id, q.quantity, p.price, 0, p.average_cost, round(q.quantity * p.average_cost, 2)
FROM sales_salesorder o
CROSS JOIN LATERAL (VALUES (1, 1 + o.number %% 5), (2, 1 + o.number %% 3)) AS q (k, quantity)
JOIN inventory_product p
  ON p.id = %(low)s + (o.number * 7919 + q.k * 104729) %% %(products)s
WHERE o.organization_id = %(organization)s AND o.number BETWEEN %(first)s AND %(last)s
"""
RAW_DASHBOARD = """
SELECT count(*), coalesce(sum(quantity), 0), coalesce(sum(quantity * price), 0),
       coalesce(sum(quantity * average_cost), 0),
       count(*) FILTER (WHERE quantity <= low_stock_threshold + allocated),
       count(*) FILTER (WHERE quantity = 0)
FROM inventory_product
WHERE organization_id = %(organization)s AND NOT is_archived AND NOT has_variations;
SELECT coalesce(sum(quantity * price), 0) FROM inventory_product
WHERE organization_id = %(organization)s AND NOT is_archived AND NOT has_variations
  AND NOT track_lots AND quantity > 0 AND expiration_date <= %(today)s;
SELECT coalesce(sum(l.quantity * p.price), 0) FROM stock_lot l JOIN inventory_product p
  ON p.id = l.product_id
WHERE l.organization_id = %(organization)s AND l.quantity > 0 AND l.expiration_date <= %(today)s
  AND NOT p.is_archived AND NOT p.has_variations;
SELECT category_id, count(*), sum(quantity), sum(quantity * price), sum(quantity * average_cost)
FROM inventory_product
WHERE organization_id = %(organization)s AND NOT is_archived AND NOT has_variations
GROUP BY category_id
"""
RETURNS = """
INSERT INTO sales_customerreturn (
    organization_id, number, sales_order_id, restock, location_id, note, created_by_id, created_at
)
SELECT o.organization_id, o.number, o.id, o.number %% 2 = 0, o.location_id, '', NULL,
       o.fulfilled_at + interval '2 days'
FROM sales_salesorder o
WHERE o.organization_id = %(organization)s AND o.number %% 20 = 0
"""
RETURN_LINES = """
INSERT INTO sales_customerreturnline (
    customer_return_id, item_id, quantity, unit_price, unit_cost, line_cost
)
SELECT DISTINCT ON (i.order_id) r.id, i.id, 1, i.unit_price, i.unit_cost, round(i.unit_cost, 2)
FROM sales_customerreturn r JOIN sales_salesorderitem i ON i.order_id = r.sales_order_id
WHERE r.organization_id = %(organization)s
ORDER BY i.order_id, i.id
"""
# The same figures as sales-over-time's by hand: the local days, the fulfilled lines and the
# return lines grouped by their local day (AT TIME ZONE), joined.
RAW_SALES_BY_DAY = """
WITH sold AS (
  SELECT (o.fulfilled_at AT TIME ZONE %(zone)s)::date AS day, count(DISTINCT o.id) AS orders,
         sum(i.quantity) AS units, sum(i.quantity * i.unit_price) AS revenue,
         sum(i.line_cost) AS cost
  FROM sales_salesorderitem i JOIN sales_salesorder o ON o.id = i.order_id
  WHERE o.organization_id = %(organization)s AND o.status = 'fulfilled'
    AND o.fulfilled_at >= %(start)s AND o.fulfilled_at < %(end)s
  GROUP BY 1
), back AS (
  SELECT (r.created_at AT TIME ZONE %(zone)s)::date AS day,
         sum(l.quantity * l.unit_price) AS amount,
         sum(l.line_cost) FILTER (WHERE r.restock) AS cost
  FROM sales_customerreturnline l JOIN sales_customerreturn r ON r.id = l.customer_return_id
  WHERE r.organization_id = %(organization)s
    AND r.created_at >= %(start)s AND r.created_at < %(end)s
  GROUP BY 1
)
SELECT d.day::date, sold.orders, sold.units, sold.revenue, sold.cost, back.amount, back.cost
FROM generate_series(%(first)s::timestamp, %(last)s::timestamp, '1 day') AS d (day)
LEFT JOIN sold ON sold.day = d.day::date LEFT JOIN back ON back.day = d.day::date
ORDER BY 1
"""
BATCH = 50_000


def _seed_sales(cursor, *, organization, main: int, orders: int) -> None:
    """Fulfilled orders over the last 400 days, two lines each, valued as fulfilment values."""
    cursor.execute(
        "SELECT min(id), count(*) FROM inventory_product WHERE organization_id = %s",
        [organization.pk],
    )
    low, products = cursor.fetchone()
    started = time.perf_counter()
    for first in range(1, orders + 1, BATCH):
        last = min(first + BATCH - 1, orders)
        batch = {"organization": organization.pk, "main": main, "first": first, "last": last,
                 "low": low, "products": products}  # fmt: skip
        cursor.execute(ORDERS, batch)
        cursor.execute(LINES, batch)
        print(f"  sales orders {last:>9,}/{orders:,} ({time.perf_counter() - started:.0f}s)",
              flush=True)  # fmt: skip
    cursor.execute(RETURNS, {"organization": organization.pk})
    cursor.execute(RETURN_LINES, {"organization": organization.pk})
    print(f"  customer returns ({time.perf_counter() - started:.0f}s)", flush=True)
    for table in ("sales_salesorder", "sales_salesorderitem", "sales_customerreturn",
                  "sales_customerreturnline"):  # fmt: skip
        cursor.execute(f"VACUUM ANALYZE {table}")


def _ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from sales.models import SalesOrder

    if connection.vendor != "postgresql":
        print("valuation measures PostgreSQL at scale: set DATABASE_URL=postgres://...; skipped")
        return
    orders = _env_int("BENCH_VALUATION_ORDERS", 200_000)
    runs = _env_int("BENCH_SCALE_RUNS", 5)
    time_zone = os.environ.get("BENCH_VALUATION_TIME_ZONE", "Pacific/Auckland")

    with scale_shop() as seeded:
        organization, user, *_, places = seeded
        from users.services import update_organization

        organization = update_organization(organization=organization, time_zone=time_zone)
        user.organization = organization
        with connection.cursor() as cursor:
            if not SalesOrder.objects.filter(organization=organization).exists():
                _seed_sales(cursor, organization=organization, main=places["main"], orders=orders)
            cursor.execute(
                "SELECT (SELECT count(*) FROM inventory_product WHERE organization_id = %(o)s), "
                "(SELECT count(*) FROM stock_stockmovement WHERE organization_id = %(o)s), "
                "(SELECT count(*) FROM sales_salesorderitem i JOIN sales_salesorder s "
                "ON s.id = i.order_id WHERE s.organization_id = %(o)s), "
                "(SELECT count(*) FROM sales_customerreturn WHERE organization_id = %(o)s)",
                {"o": organization.pk},
            )
            mine, ledger, lines, returns = cursor.fetchone()
        print(f"{mine:,} products, {ledger:,} movements, {lines:,} sales lines, {returns:,} "
              f"customer returns; {time_zone}; median of {runs}")  # fmt: skip
        _compare(user, organization, runs=runs)


def _compare(user, organization, *, runs: int) -> None:
    """Each request against the hand-written SQL of the same figures, alternating."""
    from django.db import connection
    from rest_framework.test import APIClient

    from core.dates import local_range, local_today, time_zone_of
    from reports.selectors import dashboard

    client = APIClient()
    client.force_authenticate(user)
    today = local_today(organization)
    first = today - datetime.timedelta(days=364)
    year = {"date_from": str(first), "date_to": str(today)}
    start, end = local_range(tz=time_zone_of(organization), date_from=first, date_to=today)
    by_day = {"organization": organization.pk, "start": start, "end": end, "first": first,
              "last": today, "zone": organization.time_zone}  # fmt: skip

    def api(path, params=None):
        def call():
            response = client.get(path, params or {})
            assert response.status_code == 200, response.content[:300]

        return call

    def raw(sql, params):
        def call():
            with connection.cursor() as cursor:
                for statement in filter(str.strip, sql.split(";")):
                    cursor.execute(statement, params)
                    cursor.fetchall()

        return call

    _same_figures(client, year, by_day)
    by_hand = raw(RAW_DASHBOARD, {"organization": organization.pk, "today": today})
    pairs = [
        # The figures computed (what a dashboard costs after a change), and as a client reads
        # them (cached until the next change: reports.selectors.cached_dashboard).
        ("dashboard figures computed",
         lambda: dashboard(organization_id=organization.pk, today=today), by_hand),
        ("dashboard/ (cached between changes)", api("/api/dashboard/"), by_hand),
        ("dashboard/sales-over-time/ (a year by local day)",
         api("/api/dashboard/sales-over-time/", year), raw(RAW_SALES_BY_DAY, by_day)),
    ]  # fmt: skip
    print(f"{'request':<45} {'API ms':>9} {'raw SQL ms':>11} {'ratio':>7} {'goal':>6}")
    for label, through_api, hand_written in pairs:
        through_api()  # warm-up: imports, plans, caches
        hand_written()
        api_ms, raw_ms = [], []
        for _ in range(runs):  # alternate, so both see the same machine
            api_ms.append(_ms(through_api))
            raw_ms.append(_ms(hand_written))
        a, r = statistics.median(api_ms), statistics.median(raw_ms)
        verdict = "met" if a <= 1.5 * r else "NOT met"
        print(f"{label:<45} {a:>9.1f} {r:>11.1f} {a / r:>6.2f}x {'1.5x':>6} {verdict}",
              flush=True)  # fmt: skip


def _same_figures(client, year: dict, by_day: dict) -> None:
    """The hand-written SQL answers the same question: each local day's orders, revenue, cost,
    returned amount and returned cost are the API's."""
    from decimal import Decimal

    from django.db import connection

    rows = client.get("/api/dashboard/sales-over-time/", year).json()
    with connection.cursor() as cursor:
        cursor.execute(RAW_SALES_BY_DAY, by_day)
        by_hand = cursor.fetchall()

    def money(value) -> str:
        return f"{Decimal(value or 0):.2f}"

    api = [(row["period"], row["order_count"], row["total_revenue"], row["total_cost"],
            row["returned_amount"], row["returned_cost"]) for row in rows]  # fmt: skip
    sql = [(str(day), orders or 0, money(revenue), money(cost), money(back), money(back_cost))
           for day, orders, _, revenue, cost, back, back_cost in by_hand]  # fmt: skip
    assert api == sql, "the hand-written SQL and the API disagree"
    print(f"the API's {len(api)} local days are the hand-written SQL's, figure for figure")
