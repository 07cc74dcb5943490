"""A stocktake at scale (issue 25): BENCH_STOCKTAKE_LINES products (default 100,000) with stock
at one location, a stocktake opened over all of them (one INSERT ... SELECT), counted through
the API in requests of 500 lines (one in twenty with a difference), then completed (one ADJUST
per difference, under the product locks in id order); the ledger checked afterwards. Targets:
create and complete each under 10 s.

Run (PostgreSQL; it builds and drops its own test database):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/1 \
        SECRET_KEY=x .venv/bin/python -m bench stocktakes
"""

import os
import time

BATCH = 500


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

    if connection.vendor != "postgresql":
        print("stocktakes needs PostgreSQL (set DATABASE_URL=postgres://...); skipped")
        return
    lines = int(os.environ.get("BENCH_STOCKTAKE_LINES", "100000"))
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        _run(lines)
    finally:
        connection.close()
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()


def _run(lines: int) -> None:
    from rest_framework.test import APIClient

    from bench.seed import make_organization, seed_products
    from stock.models import StockLevel, StockMovement
    from stock.selectors import ledger_mismatches
    from stock.services import default_location

    organization, user = make_organization("Stocktake Shop")
    started = time.perf_counter()
    seed_products(organization=organization, count=lines)
    print(f"seeded {lines:,} products with stock in {time.perf_counter() - started:.1f} s")
    main_location = default_location(organization_id=organization.pk)
    client = APIClient()
    client.force_authenticate(user)
    rows = []

    started = time.perf_counter()
    answer = client.post("/api/stocktakes/", {"location": main_location.pk}, format="json")
    rows.append(("create (lines listed)", time.perf_counter() - started))
    assert answer.status_code == 201, answer.json()
    stocktake = answer.json()
    assert stocktake["line_count"] == lines, stocktake

    levels = list(
        StockLevel.objects.filter(organization=organization, location=main_location)
        .order_by("product_id")
        .values_list("product_id", "quantity")
    )
    count_url = f"/api/stocktakes/{stocktake['id']}/counts/"
    requests = []
    started = time.perf_counter()
    for first in range(0, len(levels), BATCH):
        body = {
            "lines": [
                {"product": pk, "counted_quantity": quantity + (1 if pk % 20 == 0 else 0)}
                for pk, quantity in levels[first : first + BATCH]
            ]
        }
        sent = time.perf_counter()
        answer = client.post(count_url, body, format="json")
        requests.append(time.perf_counter() - sent)
        assert answer.status_code == 200, answer.json()
    total = time.perf_counter() - started
    requests.sort()
    rows.append((f"count, {len(requests)} requests of {BATCH} lines (total)", total))
    rows.append((f"  one count request of {BATCH} lines (median)", requests[len(requests) // 2]))

    started = time.perf_counter()
    page = client.get(f"/api/stocktakes/{stocktake['id']}/lines/", {"page_size": 500})
    rows.append(("count sheet, first page of 500", time.perf_counter() - started))
    assert page.status_code == 200

    started = time.perf_counter()
    answer = client.post(f"/api/stocktakes/{stocktake['id']}/complete/")
    rows.append(("complete (differences posted)", time.perf_counter() - started))
    assert answer.status_code == 200, answer.json()
    differences = StockMovement.objects.filter(source="stocktake").count()

    started = time.perf_counter()
    answer = client.get("/api/stocktakes/suggestions/", {"location": main_location.pk})
    rows.append(("suggestions (20)", time.perf_counter() - started))
    assert answer.status_code == 200

    print(f"{lines:,} lines, {differences:,} differences posted, PostgreSQL")
    for name, seconds in rows:
        print(f"  {name:<48} {seconds:8.2f} s")
    assert ledger_mismatches() == []
    print("  ledger balances (check_stock_ledger's three invariants)")
