"""Valuation reports at scale: the dashboard (stock at price and at cost) and a year of sales by
day, each against the raw SQL aggregate of the same figures, run side by side.

Run (PostgreSQL only):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/1 \
        SECRET_KEY=x .venv/bin/python -m bench valuation

It seeds catalogue_scale's shop (1,000,000 products, 3,000,000 movements by default; the same
BENCH_SCALE_* settings, and BENCH_SCALE_KEEPDB=1 reuses a database either benchmark kept) and
adds BENCH_VALUATION_ORDERS fulfilled sales orders (default 200,000, two lines each, with their
unit cost and cost of goods) spread over the last 400 days. Then, BENCH_SCALE_RUNS times each,
alternating, it times the API request (in-process, authenticated) and the hand-written SQL
aggregate that answers the same question, and prints both medians and their ratio (goal:
the API within 1.5x of the raw SQL).
"""

import datetime
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
  AND NOT track_lots AND quantity > 0 AND expiration_date <= current_date;
SELECT coalesce(sum(l.quantity * p.price), 0) FROM stock_lot l JOIN inventory_product p
  ON p.id = l.product_id
WHERE l.organization_id = %(organization)s AND l.quantity > 0 AND l.expiration_date <= current_date
  AND NOT p.is_archived AND NOT p.has_variations;
SELECT category_id, count(*), sum(quantity), sum(quantity * price), sum(quantity * average_cost)
FROM inventory_product
WHERE organization_id = %(organization)s AND NOT is_archived AND NOT has_variations
GROUP BY category_id
"""
RAW_SALES_BY_DAY = """
SELECT date_trunc('day', o.fulfilled_at AT TIME ZONE 'UTC') AS day, count(DISTINCT o.id),
       sum(i.quantity), sum(i.quantity * i.unit_price), sum(i.line_cost)
FROM sales_salesorderitem i JOIN sales_salesorder o ON o.id = i.order_id
WHERE o.organization_id = %(organization)s AND o.status = 'fulfilled'
  AND o.fulfilled_at >= %(start)s AND o.fulfilled_at < %(end)s
GROUP BY 1
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
    for table in ("sales_salesorder", "sales_salesorderitem"):
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

    with scale_shop() as seeded:
        organization, user, *_, places = seeded
        with connection.cursor() as cursor:
            if not SalesOrder.objects.filter(organization=organization).exists():
                _seed_sales(cursor, organization=organization, main=places["main"], orders=orders)
            cursor.execute(
                "SELECT (SELECT count(*) FROM inventory_product WHERE organization_id = %(o)s), "
                "(SELECT count(*) FROM stock_stockmovement WHERE organization_id = %(o)s), "
                "(SELECT count(*) FROM sales_salesorderitem i JOIN sales_salesorder s "
                "ON s.id = i.order_id WHERE s.organization_id = %(o)s)",
                {"o": organization.pk},
            )
            mine, ledger, lines = cursor.fetchone()
        print(f"{mine:,} products, {ledger:,} movements, {lines:,} sales lines; median of {runs}")
        _compare(user, organization, runs=runs)


def _compare(user, organization, *, runs: int) -> None:
    """Each request against the hand-written SQL of the same figures, alternating."""
    from django.db import connection
    from rest_framework.test import APIClient

    from reports.selectors import dashboard

    client = APIClient()
    client.force_authenticate(user)
    today = datetime.datetime.now(datetime.UTC).date()
    year = {"date_from": str(today - datetime.timedelta(days=364)), "date_to": str(today)}
    start = datetime.datetime.combine(
        today - datetime.timedelta(days=364), datetime.time.min, tzinfo=datetime.UTC
    )
    end = start + datetime.timedelta(days=365)

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

    by_hand = raw(RAW_DASHBOARD, {"organization": organization.pk})
    pairs = [
        # The figures computed (what a dashboard costs after a change), and as a client reads
        # them (cached until the next change: reports.selectors.cached_dashboard).
        ("dashboard figures computed", lambda: dashboard(organization_id=organization.pk),
         by_hand),
        ("dashboard/ (cached between changes)", api("/api/dashboard/"), by_hand),
        ("dashboard/sales-over-time/ (a year by day)",
         api("/api/dashboard/sales-over-time/", year),
         raw(RAW_SALES_BY_DAY, {"organization": organization.pk, "start": start, "end": end})),
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
