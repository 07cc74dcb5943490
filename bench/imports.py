"""Spreadsheet imports of products (issue 24): rows per second of a dry run, a real run (new
products with opening stock) and a re-run of the same file (every row matched, unchanged),
and the peak Python memory of a dry run, which must stay flat in the file's size (the rows are
streamed; the file's own bytes are the only thing that grows).

Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench24 SECRET_KEY=x python -m bench
imports` (a throw-away test database on that server, dropped afterwards).
Options: BENCH_IMPORT_ROWS (100000; a comma-separated list runs each size), BENCH_IMPORT_MEMORY
(1: also trace the dry runs' memory, which slows them down; they are timed separately),
BENCH_IMPORT_LIST (1: also time GET /api/products/ of the importing organization, which holds
BENCH_IMPORT_LIST_PRODUCTS (2000) products already, from a second thread and connection:
for BENCH_IMPORT_LIST_SECONDS (5) before the real run, then while it runs; p50 and p90. On this
2-core machine the list shares the CPUs and the GIL with the import: a lock the import held
on the organization's products would show as requests waiting for the whole import).
"""

import csv
import io
import os
import statistics
import threading
import time
import tracemalloc

CATEGORIES = [f"Category {n}" for n in range(20)]
SUPPLIERS = [f"Supplier {n}" for n in range(5)]
HEADER = ["sku", "name", "description", "category_name", "supplier_name", "price",
          "cost_price", "low_stock_threshold", "quantity"]  # fmt: skip


def make_file(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for n in range(rows):
        writer.writerow([
            f"BENCH-{n:07d}", f"Product {n}", "Imported by the benchmark",
            CATEGORIES[n % 20], SUPPLIERS[n % 5], f"{(n % 500) + 1}.99",
            f"{(n % 300) + 1}.25", n % 10, n % 50,
        ])  # fmt: skip
    return buffer.getvalue().encode()


def backend_cpu() -> float:
    """CPU seconds the database server's process of this connection has used (PostgreSQL on
    this machine: /proc), 0 elsewhere: with this process's own CPU, what an idle machine would
    take, whatever the other processes on the shared cores do to the wall time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_product_list(user, *, stop: threading.Event, seconds: float | None = None) -> list:
    """GET /api/products/ (a page of 50) as the user, on this thread's own connection, until
    `stop` is set or `seconds` have passed: the seconds each request took."""
    from django.db import connection
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    timings = []
    until = time.perf_counter() + seconds if seconds else None
    try:
        while not stop.is_set() and (until is None or time.perf_counter() < until):
            started = time.perf_counter()
            response = client.get("/api/products/", {"page_size": 50, "ordering": "name"})
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            time.sleep(0.05)
    finally:
        connection.close()
    return timings


def percentiles(timings: list) -> str:
    if len(timings) < 2:
        return f"{len(timings)} requests"
    cuts = statistics.quantiles(timings, n=10)
    return (f"p50 {statistics.median(timings) * 1000:.0f} ms, p90 {cuts[8] * 1000:.0f} ms "
            f"({len(timings)} requests)")  # fmt: skip


def in_thread(target, **kwargs):
    """Run target(**kwargs) in a thread; returns (thread, its result holder)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(target(**kwargs)), daemon=True)
    thread.start()
    return thread, result


def run(organization, user, data: bytes, *, dry_run: bool, trace: bool = False):
    from imports import jobs

    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started, cpu, database = time.perf_counter(), time.process_time(), backend_cpu()
    job = jobs.start_import(
        organization=organization, user=user, file_name="bench.csv", data=data,
        dry_run=dry_run, create_missing=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    print(f"  CPU: this process {time.process_time() - cpu:.1f} s, the database server's "
          f"process {backend_cpu() - database:.1f} s")  # fmt: skip
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert job.status in ("checked", "done"), job.errors[:5]
    return job, seconds, peak


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    from bench.seed import make_organization, seed_products
    from inventory.models import Product
    from stock.models import StockMovement

    sizes = [int(n) for n in os.environ.get("BENCH_IMPORT_ROWS", "100000").split(",")]
    trace = os.environ.get("BENCH_IMPORT_MEMORY", "1") == "1"
    list_too = os.environ.get("BENCH_IMPORT_LIST", "0") == "1"
    list_products = int(os.environ.get("BENCH_IMPORT_LIST_PRODUCTS", "2000"))
    list_seconds = float(os.environ.get("BENCH_IMPORT_LIST_SECONDS", "5"))
    settings.IMPORT_SYNC_ROWS = max(sizes)  # run here, in this process: timed as a worker runs it
    settings.IMPORT_MAX_ROWS = max(max(sizes), settings.IMPORT_MAX_ROWS)
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"database: {connection.vendor}")
        for index, size in enumerate(sizes):
            organization, user = make_organization(name=f"Bench Shop {index}")
            data = make_file(size)
            print(f"-- {size} rows, {len(data) / 1e6:.1f} MB CSV")
            _, seconds, _ = run(organization, user, data, dry_run=True)
            print(f"dry run:  {seconds:7.1f} s  {size / seconds:8.0f} rows/s")
            if list_too:
                seed_products(organization=organization, count=list_products)
                thread, before = in_thread(
                    time_product_list, user=user, stop=threading.Event(), seconds=list_seconds
                )
                thread.join()
                print(f"product list before the import: {percentiles(before[0])}")
                stop = threading.Event()
                thread, during = in_thread(time_product_list, user=user, stop=stop)
            try:
                job, seconds, _ = run(organization, user, data, dry_run=False)
            finally:
                if list_too:
                    stop.set()
                    thread.join()
            if list_too:
                print(f"product list during the real run: {percentiles(during[0])}")
            assert job.created == size
            print(f"real run: {seconds:7.1f} s  {size / seconds:8.0f} rows/s  (created "
                  f"{job.created})")  # fmt: skip
            job, seconds, _ = run(organization, user, data, dry_run=False)
            assert job.unchanged == size
            print(f"re-run:   {seconds:7.1f} s  {size / seconds:8.0f} rows/s  (unchanged "
                  f"{job.unchanged})")  # fmt: skip
            products = Product.objects.filter(organization=organization).count()
            movements = StockMovement.objects.filter(organization=organization).count()
            print(f"products {products}, movements {movements}")
            if trace:
                _, seconds, peak = run(organization, user, data, dry_run=True, trace=True)
                print(f"dry run traced: peak Python memory {peak / 1e6:.1f} MB "
                      f"(file {len(data) / 1e6:.1f} MB; {seconds:.1f} s traced)")  # fmt: skip
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
