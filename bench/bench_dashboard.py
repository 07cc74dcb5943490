"""Response times of the dashboard, sales reports and the alert digest query on a big shop.

Run: `SECRET_KEY=x python -m bench bench_dashboard` (a throw-away test database on
DATABASE_URL's server, or in-memory SQLite when it is unset). Options from the environment:
BENCH_DASHBOARD_ROWS (products, default 200000), BENCH_DASHBOARD_ORDERS (default 20000).
Prints, per endpoint, the median of 5 requests and the number of SQL queries (constant).
"""

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

ENDPOINTS = [
    "/api/dashboard/",
    "/api/dashboard/low-stock/",
    "/api/dashboard/total-sales/",
    "/api/dashboard/total-sales/?date_from=2026-03-01&date_to=2026-03-31",
    "/api/dashboard/top-products/?limit=100",
]


def _seed_sales(*, organization, count: int) -> None:
    from django.db import transaction

    from inventory.models import Product
    from sales.models import SalesOrder, SalesOrderItem
    from stock.services import default_location

    location = default_location(organization_id=organization.pk)
    product_ids = list(
        Product.objects.filter(organization=organization).values_list("pk", flat=True)[:5000]
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = 5000
    for first in range(0, count, batch):
        with transaction.atomic():
            orders = SalesOrder.objects.bulk_create(
                SalesOrder(
                    organization=organization,
                    location=location,
                    number=n + 1,
                    status=SalesOrder.Status.FULFILLED,
                    fulfilled_at=start + timedelta(minutes=37 * n),
                )
                for n in range(first, min(first + batch, count))
            )
            SalesOrderItem.objects.bulk_create(
                SalesOrderItem(
                    order=order,
                    product_id=product_ids[(order.number * 7 + k) % len(product_ids)],
                    quantity=1 + (order.number + k) % 5,
                    unit_price=Decimal(f"{order.number % 90 + 1}.{k * 13 % 100:02d}"),
                )
                for order in orders
                for k in range(3)
            )


def _time(client, path) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(timings), len(queries)


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )
    from rest_framework.test import APIClient

    from alerts.selectors import stock_report
    from bench.seed import make_organization, seed_products
    from core.dates import local_today
    from inventory.models import Category

    total = int(os.environ.get("BENCH_DASHBOARD_ROWS", "200000"))
    orders = int(os.environ.get("BENCH_DASHBOARD_ORDERS", "20000"))
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        organization, user = make_organization()
        other, _ = make_organization("Other shop")
        started = time.perf_counter()
        categories = [
            Category.objects.create(organization=organization, name=f"Category {i}")
            for i in range(20)
        ]
        share = total // 25
        for category in categories:
            seed_products(organization=organization, count=share, category=category)
        seed_products(organization=organization, count=total - 20 * share)  # no category
        seed_products(organization=other, count=total // 10)
        _seed_sales(organization=organization, count=orders)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"seeded {total:,} products and {orders:,} orders ({3 * orders:,} lines) on "
            f"{connection.vendor} in {time.perf_counter() - started:.1f}s"
        )
        client = APIClient()
        client.force_authenticate(user)
        client.get("/api/dashboard/")  # warm up
        for path in ENDPOINTS:
            seconds, queries = _time(client, path)
            print(f"{path:<70} {seconds * 1000:8.1f} ms  {queries} queries")
        started = time.perf_counter()
        report = stock_report(organization=organization, today=local_today(organization))
        print(
            f"{'alert digest query (stock_report)':<70} "
            f"{(time.perf_counter() - started) * 1000:8.1f} ms  "
            f"({report.low_stock_count:,} low, {len(report.low_stock)} listed)"
        )
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
