"""Replenishment at scale (issue 26): what is due among 100,000 reorder rules of a
million-product shop, and the draft orders for 5,000 due rules across 50 suppliers.

Run (PostgreSQL only):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench26 REDIS_URL=redis://127.0.0.1:6379/6 \
        SECRET_KEY=x .venv/bin/python -m bench replenishment

It seeds catalogue_scale's shop (BENCH_SCALE_PRODUCTS products, default 1,000,000, in three
locations, with their ledger; BENCH_SCALE_KEEPDB=1 reuses a kept one), then, server-side,
BENCH_REPL_RULES reorder rules (default 100,000) on products and locations that hold stock, one
in BENCH_REPL_DUE_EVERY (default 20, so 5,000) due, a few snoozed, 50 suppliers, and a
preferred supplier product per product of a rule (packs of 1 to 12, minimum order quantities of
0 to 40 units). Then it times, through the real API (APIClient, BENCH_SCALE_RUNS runs after a
warm-up, median): the due list, filtered lists, the product list with `on_order` and
`needs_reorder=true`; then `POST /api/replenishment/orders/` once (every due rule) and once
more (nothing left to order), and prints the plan of the due list's query.
"""

import datetime
import os
import statistics
import time

SUPPLIERS = 50

RULES = """
INSERT INTO replenishment_reorderrule (
    organization_id, product_id, location_id, supplier_id, min_quantity, max_quantity,
    snoozed_until, created_at, updated_at
)
SELECT
    %(organization)s, product_id, location_id,
    (%(suppliers)s::bigint[])[1 + product_id %% %(n_suppliers)s],
    CASE WHEN rn %% %(every)s = 0 THEN available + 5 ELSE 0 END,
    CASE WHEN rn %% %(every)s = 0 THEN available + 50 ELSE 10 END,
    CASE WHEN rn %% 97 = 0 AND rn %% %(every)s <> 0 THEN current_date + 3 ELSE NULL END,
    now(), now()
FROM (
    SELECT product_id, location_id, sum(quantity - allocated) AS available,
           row_number() OVER (ORDER BY product_id, location_id) AS rn
    FROM stock_stocklevel
    WHERE organization_id = %(organization)s
    GROUP BY product_id, location_id
    HAVING sum(quantity - allocated) > 0
    ORDER BY product_id, location_id
    LIMIT %(rules)s
) AS picked
"""

SUPPLIER_PRODUCTS = """
INSERT INTO suppliers_supplierproduct (
    organization_id, supplier_id, product_id, supplier_sku, pack_size, unit_cost, lead_time_days,
    minimum_order_quantity, is_preferred, created_at, updated_at
)
SELECT DISTINCT ON (product_id)
    %(organization)s, supplier_id, product_id, 'SUP-' || product_id, 1 + product_id %% 12,
    0.50 + (product_id %% 300) / 100.0, product_id %% 9, (product_id %% 5) * 10, true, now(), now()
FROM replenishment_reorderrule
WHERE organization_id = %(organization)s
ORDER BY product_id
"""


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _seed_rules(cursor, organization) -> dict:
    from replenishment.models import ReorderRule
    from suppliers.models import Supplier

    existing = ReorderRule.objects.filter(organization=organization).count()
    if existing:
        from purchases.models import PurchaseOrder

        made = PurchaseOrder.objects.filter(organization=organization, notes__startswith="Made by")
        print(f"reusing {existing:,} reorder rules (BENCH_SCALE_KEEPDB); the drafts of the last "
              f"run deleted: {made.delete()[0]:,} rows")  # fmt: skip
        return {"suppliers": list(Supplier.objects.filter(name__startswith="Wholesaler ")
                                  .order_by("pk").values_list("pk", flat=True))}  # fmt: skip
    started = time.perf_counter()
    suppliers = Supplier.objects.bulk_create(
        Supplier(organization=organization, name=f"Wholesaler {n:02d}") for n in range(SUPPLIERS)
    )
    params = {
        "organization": organization.pk,
        "suppliers": [s.pk for s in suppliers],
        "n_suppliers": SUPPLIERS,
        "rules": _env_int("BENCH_REPL_RULES", 100_000),
        "every": _env_int("BENCH_REPL_DUE_EVERY", 20),
    }
    cursor.execute(RULES, params)
    cursor.execute(SUPPLIER_PRODUCTS, params)
    for table in ("replenishment_reorderrule", "suppliers_supplierproduct"):
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"rules and supplier products seeded in {time.perf_counter() - started:.0f}s")
    return {"suppliers": [s.pk for s in suppliers]}


def _time(client, method, path, body, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = getattr(client, method)(path, body, format="json")
            timings.append(time.perf_counter() - started)
        assert response.status_code in (200, 201), (path, response.status_code, response.data)
    return statistics.median(timings), len(captured), response.json()


def main() -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.utils import timezone
    from rest_framework.test import APIClient

    from bench.catalogue_scale import scale_shop
    from core.dates import local_today
    from replenishment.models import ReorderRule
    from replenishment.selectors import LOW_RULES, SALES_DAYS, SOLD

    if connection.vendor != "postgresql":
        print("replenishment measures PostgreSQL plans: set DATABASE_URL=postgres://...; skipped")
        return
    runs = _env_int("BENCH_SCALE_RUNS", 5)
    with scale_shop() as seeded:
        organization, user, _categories, _suppliers, _hot, places = seeded
        with connection.cursor() as cursor:
            made = _seed_rules(cursor, organization)
            cursor.execute(
                "SELECT (SELECT count(*) FROM inventory_product WHERE organization_id = %s),"
                " (SELECT count(*) FROM replenishment_reorderrule WHERE organization_id = %s),"
                " (SELECT count(*) FROM stock_stockmovement WHERE organization_id = %s)",
                [organization.pk] * 3,
            )
            products, rules, movements = cursor.fetchone()
        print(f"{products:,} products, {rules:,} reorder rules over 3 locations, "
              f"{movements:,} movements; {runs} runs per request, median")  # fmt: skip
        cache.clear()
        client = APIClient()
        client.force_authenticate(user)
        client.get("/api/replenishment/")  # warm-up: imports
        print(f"{'request':<58} {'median ms':>10} {'queries':>8} {'rows':>7}")
        supplier = made["suppliers"][0]
        for label, path, params in [
            ("GET /api/replenishment/ (every due rule)", "/api/replenishment/", {}),
            ("GET /api/replenishment/?supplier=", "/api/replenishment/", {"supplier": supplier}),
            ("GET /api/replenishment/?location=<back room>", "/api/replenishment/",
             {"location": places["back"]}),
            ("GET /api/products/ (a page, with on_order)", "/api/products/", {}),
            ("GET /api/products/?needs_reorder=true", "/api/products/", {"needs_reorder": "true"}),
        ]:  # fmt: skip
            seconds, queries, body = _time(client, "get", path, params, runs)
            rows = len(body) if isinstance(body, list) else body.get("count")
            print(f"{label:<58} {seconds * 1000:>10.1f} {queries:>8} {rows:>7,}", flush=True)

        # The due list's statement as the selector runs it (hash joins off, for it only).
        sql = LOW_RULES.format(filters="", sold=SOLD)
        params = [timezone.now() - datetime.timedelta(days=SALES_DAYS), organization.pk,
                  local_today(organization)]  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())

        for label in ("POST /api/replenishment/orders/ (every due rule)",
                      "POST /api/replenishment/orders/ again (nothing left)"):  # fmt: skip
            seconds, queries, body = _time(client, "post", "/api/replenishment/orders/", {}, 1)
            orders = body["purchase_orders"]
            lines = sum(len(order["items"]) for order in orders)
            print(f"{label:<58} {seconds * 1000:>10.1f} {queries:>8} "
                  f"{len(orders):>4} orders, {lines:,} lines", flush=True)  # fmt: skip
        seconds, queries, body = _time(client, "get", "/api/replenishment/", {}, runs)
        print(f"{'GET /api/replenishment/ after the orders':<58} {seconds * 1000:>10.1f} "
              f"{queries:>8} {len(body):>7,}")  # fmt: skip
        left = ReorderRule.objects.filter(organization=organization).count()
        print(f"\n--- the due list's query ({left:,} rules)\n{plan}")
