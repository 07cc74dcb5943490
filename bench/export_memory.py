"""Peak memory of GET /api/products/export/ for 1,000, 9,000 and 100,000 rows: it must stay flat.

Run: `make bench` or `SECRET_KEY=x python -m bench export_memory` (uses a throw-away test
database on DATABASE_URL's server, or in-memory SQLite when it is unset).
Options from the environment: BENCH_EXPORT_ROWS (default 100000).
"""

import os
import time
import tracemalloc


def _measure(client, params, *, trace: bool = True) -> tuple[int, int, float, int]:
    """(rows, peak bytes, seconds, body bytes) of one export, consumed chunk by chunk."""
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    response = client.get("/api/products/export/", params)
    assert response.status_code == 200, response.status_code
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return lines - 1, peak, seconds, size


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

    from bench.seed import make_organization, seed_products
    from inventory.exports import CHUNK_SIZE
    from inventory.models import Category

    total = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))
    small, medium = 1000, 10_000
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        organization, user = make_organization()
        few = Category.objects.create(organization=organization, name="Few")
        some = Category.objects.create(organization=organization, name="Some")
        started = time.perf_counter()
        seed_products(organization=organization, count=small, category=few)
        seed_products(organization=organization, count=medium - small, category=some)
        seed_products(organization=organization, count=total - medium)
        print(
            f"seeded {total} products on {connection.vendor} "
            f"in {time.perf_counter() - started:.1f}s"
        )
        client = APIClient()
        client.force_authenticate(user)
        _measure(client, {"category": few.pk})  # warm up imports and caches
        results = [
            ("1,000 rows", _measure(client, {"category": few.pk})),
            (f"{medium - small:,} rows", _measure(client, {"category": some.pk})),
            (f"{total:,} rows", _measure(client, {})),
        ]
        for label, (rows, peak, _seconds, size) in results:
            print(
                f"{label:>14}: {rows} rows, {size / 1e6:.1f} MB of CSV, "
                f"peak traced memory {peak / 1e6:.2f} MB"
            )
        rows, _, seconds, _ = _measure(client, {}, trace=False)
        print(f"untraced: {rows} rows in {seconds:.2f}s ({rows / seconds:,.0f} rows/s)")
        ratio = results[2][1][1] / results[1][1][1]
        print(
            f"peak memory ratio ({total:,} rows / {medium - small:,} rows): {ratio:.2f} "
            f"(bounded by the {CHUNK_SIZE}-row fetch, not by the row count)"
        )
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
