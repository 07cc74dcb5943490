"""The catalogue API on a million-product shop: median time and query count of every list shape.

Run (PostgreSQL only: the point is PostgreSQL's plans at scale):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/1 \
        SECRET_KEY=x .venv/bin/python -m bench catalogue_scale

It seeds a throw-away test database (`test_<name>` on DATABASE_URL's server) with one
organization of BENCH_SCALE_PRODUCTS products (default 1,000,000; categories, suppliers, expiry
dates, low and zero stock, a few archived; one in ten tracks lots) kept in three locations (about
2.3 stock levels per product; a lot-tracked product's two lots at two locations), and their
stock ledger (BENCH_SCALE_MOVEMENTS rows in all, default 3,000,000: one `initial` movement per
level, with its lot line, and runs of `OUT` movements on the "hot" products, so every invariant
of check_stock_ledger holds; every product has a 13-digit barcode), plus a second organization of
BENCH_SCALE_OTHER_PRODUCTS (default 100,000) with the same names, so tenancy filtering matters.
Rows are generated server-side (INSERT ... SELECT FROM generate_series), then VACUUM ANALYZE.
Names are correlated with the filters on purpose (all products of a category or supplier share
their first word, as "Acme ..." products of supplier Acme do): the worst case for a plan that
walks the ordering's index hoping to meet 20 matching rows soon.

Then it times each request through the real API (APIClient, authenticated, Redis cache when
REDIS_URL is set), BENCH_SCALE_RUNS times (default 5) after one warm-up, and prints the median,
the number of SQL queries and the slowest query's time (the "first" column is the first
request's time, before anything was cached); then EXPLAIN (ANALYZE, BUFFERS) of the
slowest query of the BENCH_SCALE_EXPLAIN (default 4) slowest requests.
BENCH_SCALE_KEEPDB=1 keeps the seeded database for the next run (migrations added since are
applied to it, so before/after numbers come from the same rows); BENCH_SCALE_ONLY=<substring>
measures only the matching rows.
"""

import contextlib
import os
import statistics
import time

from bench.words import ADJECTIVES, MATERIALS, NOUNS

CATEGORIES = 200
SUPPLIERS = 500
RARE_WORD = "Zephyrite"  # in one product name out of 100,000
COMMON_WORD = "Steel"  # in one product name out of 10
BARCODE = "0000000654321"  # every product has one (13 digits: its number)
BATCH = 100_000
HOT_RUN = 10  # OUT movements per hot product

PRODUCT_INSERT = """
INSERT INTO inventory_product (
    organization_id, sku, barcode, name, description, price, cost_price, average_cost, quantity,
    allocated, low_stock_threshold, track_lots, expiration_date, attributes, has_variations,
    is_archived, created_at, updated_at, category_id, supplier_id, parent_id
)
SELECT
    %(organization)s,
    'SKU-' || lpad(g::text, 8, '0'),
    lpad(g::text, 13, '0'),
    CASE WHEN g %% 100000 = 7 THEN %(rare)s || ' ' ELSE '' END
        || (%(adjectives)s::text[])[1 + g %% 20] || ' '
        || (%(materials)s::text[])[1 + (g / 20) %% 10] || ' '
        || (%(nouns)s::text[])[1 + (g / 200) %% 50] || ' ' || g,
    CASE WHEN g %% 3 = 0
        THEN 'Imported in batch ' || (g %% 1000) || ', shelf ' || (g %% 97) || '. Handle with care.'
        ELSE '' END,
    ((g * 7919) %% 100000) / 100.0,
    CASE WHEN g %% 4 = 0 THEN NULL ELSE ((g * 7919) %% 100000) / 200.0 END,
    CASE WHEN g %% 4 = 0 THEN 0 ELSE ((g * 7919) %% 100000) / 200.0 END,
    (g * 37) %% 201,
    0,
    CASE WHEN g %% 7 = 0 THEN 0 ELSE 10 END,
    g %% 10 = 3,
    CASE
        WHEN g %% 10 = 3 AND (g * 37) %% 201 > 0 THEN current_date - 5 + ((g * 13) %% 60)::int
        WHEN g %% 10 = 0 THEN current_date - 500 + ((g * 13) %% 1000)::int
        ELSE NULL END,
    '{}'::jsonb,
    false,
    g %% 200 = 0,
    now() - make_interval(secs => ((g::bigint * 7919) %% (730 * 86400))),
    now() - make_interval(secs => ((g::bigint * 104729) %% (30 * 86400))),
    CASE WHEN g %% 5 = 0 THEN NULL ELSE (%(categories)s::bigint[])[1 + g %% %(n_categories)s] END,
    CASE WHEN g %% 3 = 0 THEN NULL ELSE (%(suppliers)s::bigint[])[1 + g %% %(n_suppliers)s] END,
    NULL
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
"""

# Stock in three locations: a product without lots keeps a third of it in the back room, a
# quarter in the warehouse and the rest at Main; a lot-tracked one (one in ten) has lot A (its
# earliest expiry) at Main and lot B (30 days later) in the warehouse. The hot products (the
# first ones) got HOT_RUN more units at Main that their OUT movements took away again.
LOTS = """
INSERT INTO stock_lot (organization_id, product_id, code, expiration_date, quantity, created_at)
SELECT p.organization_id, p.id, lot.code, p.expiration_date + lot.later, lot.quantity,
       p.created_at
FROM inventory_product p
CROSS JOIN LATERAL (VALUES ('L-A', 0, p.quantity - p.quantity / 2),
                           ('L-B', 30, p.quantity / 2)) AS lot (code, later, quantity)
WHERE p.organization_id = %(organization)s AND p.id BETWEEN %(first)s AND %(last)s
  AND p.track_lots AND lot.quantity > 0
"""
LEVELS = """
INSERT INTO stock_stocklevel (organization_id, product_id, location_id, lot_id, quantity,
                              allocated, updated_at)
SELECT p.organization_id, p.id, place.location, NULL, place.quantity, 0, p.updated_at
FROM inventory_product p
CROSS JOIN LATERAL (VALUES
    (%(main)s::bigint, p.quantity - p.quantity / 3 - p.quantity / 4),
    (%(back)s::bigint, p.quantity / 3),
    (%(warehouse)s::bigint, p.quantity / 4)) AS place (location, quantity)
WHERE p.organization_id = %(organization)s AND p.id BETWEEN %(first)s AND %(last)s
  AND NOT p.track_lots
  AND (place.quantity > 0 OR (place.location = %(main)s AND p.id <= %(hot_last)s))
UNION ALL
SELECT l.organization_id, l.product_id,
       CASE WHEN l.code = 'L-A' THEN %(main)s::bigint ELSE %(warehouse)s::bigint END,
       l.id, l.quantity, 0, l.created_at
FROM stock_lot l
WHERE l.organization_id = %(organization)s AND l.product_id BETWEEN %(first)s AND %(last)s
"""
# One `initial` IN per level (plus, at Main, what the hot run takes out again), then HOT_RUN
# `OUT` movements of 1 for the hot products: every invariant of check_stock_ledger holds.
INITIAL_MOVEMENTS = """
INSERT INTO stock_stockmovement (
    organization_id, product_id, location_id, movement_type, quantity, delta, balance_after,
    unit_cost, note, source, reference, performed_by_id, created_at
)
SELECT s.organization_id, s.product_id, s.location_id, 'IN', s.units, s.units,
       sum(s.units) OVER (PARTITION BY s.product_id ORDER BY s.location_id, s.lot_id),
       p.average_cost, '', 'initial', NULL, NULL, p.created_at
FROM (
    SELECT v.*, v.quantity + CASE
        WHEN v.product_id <= %(hot_last)s AND v.lot_id IS NULL AND v.location_id = %(main)s
        THEN %(run)s ELSE 0 END AS units
    FROM stock_stocklevel v
    WHERE v.organization_id = %(organization)s AND v.product_id BETWEEN %(first)s AND %(last)s
) s
JOIN inventory_product p ON p.id = s.product_id
ORDER BY s.product_id, s.location_id, s.lot_id
"""
MOVEMENT_LOTS = """
INSERT INTO stock_movementlot (movement_id, lot_id, delta)
SELECT m.id, v.lot_id, m.delta
FROM stock_stockmovement m
JOIN stock_stocklevel v ON v.product_id = m.product_id AND v.location_id = m.location_id
WHERE m.organization_id = %(organization)s AND m.product_id BETWEEN %(first)s AND %(last)s
  AND v.lot_id IS NOT NULL
"""
HOT_MOVEMENTS = """
INSERT INTO stock_stockmovement (
    organization_id, product_id, location_id, movement_type, quantity, delta, balance_after,
    unit_cost, note, source, reference, performed_by_id, created_at
)
SELECT p.organization_id, p.id, %(main)s, 'OUT', 1, -1, p.quantity + %(run)s - k,
       p.average_cost, '', CASE WHEN k %% 2 = 0 THEN 'sales_order' ELSE 'manual' END,
       CASE WHEN k %% 2 = 0 THEN 'SO-' || (p.id * 10 + k) ELSE NULL END, NULL,
       p.created_at + make_interval(hours => k)
FROM inventory_product p CROSS JOIN generate_series(1, %(run)s) AS k
WHERE p.organization_id = %(organization)s AND p.id BETWEEN %(first)s AND %(last)s
  AND NOT p.track_lots
ORDER BY p.id, k
"""


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)).replace("_", ""))


def _seed_organization(cursor, *, name: str, products: int, movements: int, first_g: int):
    """One organization with its categories, suppliers, products and ledger; returns the ids."""
    from bench.seed import make_categories_and_suppliers, make_organization
    from inventory.models import Product
    from stock import services

    organization, user = make_organization(name)
    categories, suppliers = make_categories_and_suppliers(
        organization, categories=CATEGORIES, suppliers=SUPPLIERS
    )
    params = {
        "organization": organization.pk,
        "rare": RARE_WORD,
        "adjectives": ADJECTIVES,
        "materials": MATERIALS,
        "nouns": NOUNS,
        "categories": [c.pk for c in categories],
        "n_categories": CATEGORIES,
        "suppliers": [s.pk for s in suppliers],
        "n_suppliers": SUPPLIERS,
    }
    started = time.perf_counter()
    for first in range(first_g, first_g + products, BATCH):
        last = min(first + BATCH, first_g + products) - 1
        cursor.execute(PRODUCT_INSERT, {**params, "first": first, "last": last})
        print(
            f"  {name}: products {last - first_g + 1:>9,}/{products:,} "
            f"({time.perf_counter() - started:.0f}s)",
            flush=True,
        )
    ids = Product.objects.filter(organization=organization).order_by("pk").values_list("pk")
    low, high = ids.first()[0], ids.last()[0]
    # Stock in 3 locations: about 2.3 levels per product, each with its `initial` movement.
    hot = max(0, min(products, (movements - 2 * products) // HOT_RUN))
    hot_last = low + hot - 1
    places = {
        "main": services.default_location(organization_id=organization.pk).pk,
        "back": services.create_location(organization=organization, name="Back room").pk,
        "warehouse": services.create_location(organization=organization, name="Warehouse").pk,
    }
    step = BATCH // 2
    for first in range(low, high + 1, step):
        last = min(first + step - 1, high)
        batch = {"organization": organization.pk, "first": first, "last": last, "run": HOT_RUN,
                 "hot_last": hot_last, **places}  # fmt: skip
        for statement in (LOTS, LEVELS, INITIAL_MOVEMENTS, MOVEMENT_LOTS):
            cursor.execute(statement, batch)
        if first <= hot_last:
            cursor.execute(HOT_MOVEMENTS, {**batch, "last": min(last, hot_last)})
        print(
            f"  {name}: ledger for products {last - low + 1:>9,}/{products:,} "
            f"({time.perf_counter() - started:.0f}s)",
            flush=True,
        )
    return organization, user, categories, suppliers, low, places  # the first product is hot


def _seed(cursor, *, products: int, other_products: int, movements: int):
    started = time.perf_counter()
    main = _seed_organization(
        cursor, name="Bench Shop", products=products, movements=movements, first_g=1
    )
    _seed_organization(cursor, name="Other shop", products=other_products, movements=0, first_g=1)
    print("  VACUUM ANALYZE ...", flush=True)
    for table in (
        "inventory_product", "stock_stockmovement", "inventory_category", "stock_stocklevel",
        "stock_lot", "stock_movementlot",
    ):  # fmt: skip
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"seeded in {time.perf_counter() - started:.0f}s", flush=True)
    return main


def _existing():
    """The seeded organization of a kept database, or None."""
    from inventory.models import Category, Product
    from suppliers.models import Supplier
    from users.models import Organization, User

    organization = Organization.objects.filter(name="Bench Shop").first()
    if organization is None:
        return None
    user = User.objects.filter(organization=organization).first()
    categories = list(Category.objects.filter(organization=organization).order_by("pk"))
    suppliers = list(Supplier.objects.filter(organization=organization).order_by("pk"))
    first = Product.objects.filter(organization=organization).order_by("pk").first()
    places = dict(
        zip(
            ("main", "back", "warehouse"),
            organization.locations.order_by("pk").values_list("pk", flat=True),
            strict=True,
        )
    )
    return organization, user, categories, suppliers, first.pk, places


def _requests(
    *, categories, suppliers, hot_product: int, cold_product: int, deep_page: int, places
):
    products = "/api/products/"
    levels = "/api/stock/levels/"
    rows = [
        ("products: default page (name)", products, {}),
        ("  location=<back room>", products, {"location": places["back"]}),
        ("  location=<warehouse>", products, {"location": places["warehouse"]}),
        ("stock/levels/: default page", levels, {}),
        ("  location=<back room>", levels, {"location": places["back"]}),
        ("  location=<main>", levels, {"location": places["main"]}),
        ("  product=<lot-tracked>", levels, {"product": hot_product + 2}),
        ("lots/?expires_within=7", "/api/lots/", {"expires_within": 7}),
        ("products/?expires_within=7", products, {"expires_within": 7}),
    ]
    for field in ["name", "sku", "price", "quantity", "created_at", "updated_at"]:
        rows.append((f"  ordering={field}", products, {"ordering": field}))
        rows.append((f"  ordering=-{field}", products, {"ordering": f"-{field}"}))
    rows += [
        ("  category=<1 of 200>", products, {"category": categories[6].pk}),
        ("  supplier=<1 of 500>", products, {"supplier": suppliers[5].pk}),
        ("  low_stock=true", products, {"low_stock": "true"}),
        ("  low_stock=false", products, {"low_stock": "false"}),
        ("  expired=true", products, {"expired": "true"}),
        ("  in_stock=false", products, {"in_stock": "false"}),
        ("  min_price=990", products, {"min_price": "990"}),
        ("  min_price=100&max_price=101", products, {"min_price": "100", "max_price": "101"}),
        ("  category&low_stock=true&ordering=-price", products,
         {"category": categories[6].pk, "low_stock": "true", "ordering": "-price"}),
        (f"  search={RARE_WORD} (rare)", products, {"search": RARE_WORD}),
        (f"  search={COMMON_WORD} (common)", products, {"search": COMMON_WORD}),
        ("  search=SKU-00123 (sku prefix)", products, {"search": "SKU-00123"}),
        ("  search=SKU-0 (prefix of every sku)", products, {"search": "SKU-0"}),
        ("  search=<a barcode> (exact)", products, {"search": BARCODE}),
        (f"  search={COMMON_WORD}&ordering=-price", products,
         {"search": COMMON_WORD, "ordering": "-price"}),
        (f"  search={RARE_WORD}&ordering=-price", products,
         {"search": RARE_WORD, "ordering": "-price"}),
        ("  search=shelf 42 (words of 1/3 of descriptions)", products, {"search": "shelf 42"}),
        ("  search=nothing-matches", products, {"search": "qqxqq"}),
        ("  page=2", products, {"page": 2}),
        (f"  page={deep_page} (deep)", products, {"page": deep_page}),
        (f"  page={deep_page}&ordering=-updated_at", products,
         {"page": deep_page, "ordering": "-updated_at"}),
        ("products/alerts/", "/api/products/alerts/", {}),
        ("stock/movements/: default page", "/api/stock/movements/", {}),
        ("  product=<hot: 3 levels, 10 OUTs>", "/api/stock/movements/", {"product": hot_product}),
        ("  product=<cold: its initial INs>", "/api/stock/movements/", {"product": cold_product}),
        ("  source=sales_order", "/api/stock/movements/", {"source": "sales_order"}),
        ("dashboard/", "/api/dashboard/", {}),
        ("  location=<back room>", "/api/dashboard/", {"location": places["back"]}),
    ]  # fmt: skip
    return rows


def _time(client, path, params, runs: int):
    """(median seconds, query count, slowest query (seconds, sql), response body)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, params)
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, params, response.status_code, response.data)
    slowest = max(
        ((float(q["time"]), q["sql"]) for q in captured.captured_queries), default=(0.0, "")
    )
    return statistics.median(timings), len(captured), slowest, response.json()


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@contextlib.contextmanager
def scale_shop():
    """The seeded shop in a throw-away test database (`test_<name>` on DATABASE_URL's server),
    or the one a run kept (BENCH_SCALE_KEEPDB=1; migrations added since are applied to it):
    yields (organization, user, categories, suppliers, first product, places), then drops the
    database unless it is kept. BENCH_SCALE_* give the sizes."""
    from django.db import connection
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    products = _env_int("BENCH_SCALE_PRODUCTS", 1_000_000)
    keepdb = os.environ.get("BENCH_SCALE_KEEPDB", "").lower() in ("1", "true", "yes")
    setup_test_environment()
    old_config = setup_databases(
        verbosity=0, interactive=False, keepdb=keepdb, serialized_aliases=[]
    )
    try:
        seeded = _existing() if keepdb else None
        if seeded is None:
            with connection.cursor() as cursor:
                seeded = _seed(
                    cursor,
                    products=products,
                    other_products=_env_int("BENCH_SCALE_OTHER_PRODUCTS", 100_000),
                    movements=_env_int("BENCH_SCALE_MOVEMENTS", 3_000_000),
                )
            if products <= 100_000:  # a check of the seeding itself, quick at this size
                from stock.selectors import ledger_mismatches

                print(f"ledger mismatches after seeding: {len(ledger_mismatches())}")
        else:
            print("reusing the kept database (BENCH_SCALE_KEEPDB)")
        yield seeded
    finally:
        teardown_databases(old_config, verbosity=0, keepdb=keepdb)
        teardown_test_environment()


def main() -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from rest_framework.test import APIClient

    if connection.vendor != "postgresql":
        print("catalogue_scale measures PostgreSQL plans: set DATABASE_URL=postgres://...; skipped")
        return
    runs = _env_int("BENCH_SCALE_RUNS", 5)
    explain = _env_int("BENCH_SCALE_EXPLAIN", 4)
    only = os.environ.get("BENCH_SCALE_ONLY", "")

    with scale_shop() as seeded:
        organization, user, categories, suppliers, hot_product, places = seeded
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM inventory_product WHERE organization_id = %s), "
                "(SELECT count(*) FROM inventory_product), "
                "(SELECT count(*) FROM stock_stockmovement WHERE organization_id = %s), "
                "(SELECT max(id) FROM inventory_product WHERE organization_id = %s)",
                [organization.pk, organization.pk, organization.pk],
            )
            mine, everyone, ledger, cold_product = cursor.fetchone()
        print(
            f"{mine:,} products in the measured organization ({everyone:,} in all), "
            f"{ledger:,} stock movements; {runs} runs per request, median"
        )
        cache.clear()  # no count cached by an earlier run
        client = APIClient()
        client.force_authenticate(user)
        client.get("/api/products/", {"search": "warm-up"})  # imports, no count cached
        results = []
        print(
            f"{'request':<50} {'first ms':>9} {'median ms':>10} {'queries':>8} "
            f"{'slowest q ms':>13} {'count':>10}"
        )
        for label, path, params in _requests(
            categories=categories,
            suppliers=suppliers,
            hot_product=hot_product,
            cold_product=cold_product,
            deep_page=min(40_000, mine * 8 // 200),  # 40,000 of 49,750 pages at 1M products
            places=places,
        ):
            if only and only not in label and only not in path:
                continue
            first, *_ = _time(client, path, params, 1)  # cold: e.g. a count not cached yet
            seconds, queries, slowest, body = _time(client, path, params, runs)
            count = body.get("count", body.get("low_stock_count", "")) if body else ""
            count = f"{count:,}" if isinstance(count, int) else ""
            print(
                f"{label:<50} {first * 1000:>9.1f} {seconds * 1000:>10.1f} {queries:>8} "
                f"{slowest[0] * 1000:>13.1f} {count:>10}",
                flush=True,
            )
            results.append((seconds, label, slowest))
        for seconds, label, (_query_seconds, sql) in sorted(results, reverse=True)[:explain]:
            print(f"\n--- {label.strip()} ({seconds * 1000:.0f} ms): its slowest query\n{sql}")
            print(_explain(sql))
