"""Sales-order throughput under concurrency, and the ledger invariant afterwards (PostgreSQL).

Threads fulfil one-unit sales orders at once: all against one hot product (every fulfilment
waits for the same row lock), spread over many products, and two-line orders naming the same
two products in opposite orders (the deadlock-prone case). Creating orders is measured too: it
queues on the organization's row lock that keeps SO numbers gapless. Then confirm-then-fulfil
(reserve, then take the reservation) with 30 clients: on one hot product against 30 distinct
products (target: hot at >= 50% of distinct), and its cost per order against a direct
fulfilment with the same 30 clients (target: <= 2x).

Run: `DATABASE_URL=postgres://... make bench` or
`SECRET_KEY=x DATABASE_URL=postgres://... python -m bench stock_throughput`.
Options from the environment: BENCH_STOCK_THREADS (8), BENCH_STOCK_ORDERS (800),
BENCH_STOCK_CLIENTS (30, the confirm-then-fulfil clients).
"""

import os
import threading
import time

from orders.services import OrderItem


def _run_threads(count: int, work) -> float:
    """Run work(index) in `count` threads released together; the wall time in seconds."""
    from django.db import connection

    barrier = threading.Barrier(count + 1)
    errors: list[BaseException] = []

    def target(index):
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def main() -> None:
    import django

    clients = int(os.environ.get("BENCH_STOCK_CLIENTS", "30"))
    django.setup()
    from django.db import connection
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    if connection.vendor != "postgresql":
        print("stock_throughput needs PostgreSQL (set DATABASE_URL=postgres://...); skipped")
        return

    from bench.seed import make_organization, seed_products
    from inventory.models import Product
    from sales import services as sales
    from sales.models import SalesOrder
    from stock.selectors import ledger_mismatches

    threads = int(os.environ.get("BENCH_STOCK_THREADS", "8"))
    orders = int(os.environ.get("BENCH_STOCK_ORDERS", "800"))
    per_thread = orders // threads
    # Every client thread holds a connection: the pool (made at the first connection) needs
    # one for each.
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict):
        pool["max_size"] = max(pool.get("max_size", 0), clients + 10)
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        organization, user = make_organization()
        seed_products(organization=organization, count=200)
        products = list(Product.objects.filter(organization=organization).order_by("id"))
        from stock.services import record_movement

        for product in products:  # plenty of stock everywhere
            record_movement(product=product, movement_type="IN", quantity=100_000, user=user)
        hot, a, b = products[0], products[1], products[2]

        def create_pending(lines_for) -> list[list[SalesOrder]]:
            return [
                [
                    sales.create_sales_order(
                        organization=organization, user=user, items=lines_for(t, i)
                    )
                    for i in range(per_thread)
                ]
                for t in range(threads)
            ]

        def fulfil_all(batches):
            def work(index):
                for order in batches[index]:
                    sales.update_sales_order(
                        order=order, user=user, status=SalesOrder.Status.FULFILLED
                    )

            return _run_threads(threads, work)

        print(f"{threads} threads, {per_thread * threads} orders per scenario, PostgreSQL")
        rows = []

        def create_work(index):
            for _ in range(per_thread):
                sales.create_sales_order(
                    organization=organization,
                    user=user,
                    items=[OrderItem(products[3 + index], 1)],
                )

        seconds = _run_threads(threads, create_work)
        rows.append(("create pending orders (org number lock)", seconds))

        batches = create_pending(lambda t, i: [OrderItem(hot, 1)])
        rows.append(("fulfil, all on one hot product", fulfil_all(batches)))

        batches = create_pending(lambda t, i: [OrderItem(products[(t * per_thread + i) % 200], 1)])
        rows.append(("fulfil, spread over 200 products", fulfil_all(batches)))

        batches = create_pending(
            lambda t, i: (
                [OrderItem(a, 1), OrderItem(b, 1)] if t % 2 else [OrderItem(b, 1), OrderItem(a, 1)]
            )
        )
        rows.append(("fulfil, two lines in opposite orders", fulfil_all(batches)))

        total = per_thread * threads
        for label, seconds in rows:
            print(f"{label:<42} {seconds:7.2f}s  {total / seconds:8.0f} orders/s")

        # Confirm, then fulfil: `clients` threads, each with its own orders.
        each = max(1, orders // clients)

        def pending_for(product_of):
            return [
                [
                    sales.create_sales_order(
                        organization=organization,
                        user=user,
                        items=[OrderItem(product_of(t), 1)],
                    )
                    for _ in range(each)
                ]
                for t in range(clients)
            ]

        def run(batches, moves):
            def work(index):
                for order in batches[index]:
                    for status in moves:
                        sales.update_sales_order(order=order, user=user, status=status)

            return _run_threads(clients, work)

        confirm_fulfil = (SalesOrder.Status.CONFIRMED, SalesOrder.Status.FULFILLED)
        hot_two = run(pending_for(lambda t: hot), confirm_fulfil)
        distinct_two = run(pending_for(lambda t: products[t % 200]), confirm_fulfil)
        distinct_direct = run(
            pending_for(lambda t: products[t % 200]), (SalesOrder.Status.FULFILLED,)
        )
        count = each * clients
        print(f"{clients} clients, {count} orders per scenario:")
        for label, seconds in (
            ("confirm + fulfil, one hot product", hot_two),
            (f"confirm + fulfil, {clients} distinct products", distinct_two),
            (f"fulfil directly, {clients} distinct products", distinct_direct),
        ):
            print(f"{label:<42} {seconds:7.2f}s  {count / seconds:8.0f} orders/s")
        print(f"hot / distinct throughput (target >= 0.50): {distinct_two / hot_two:.2f}")
        ratio = distinct_two / distinct_direct
        print(f"confirm + fulfil / direct fulfil, {clients} clients (target <= 2.00): {ratio:.2f}")
        # The cost of one order on its own: one client, no waiting on anyone's locks.
        alone = [[order for batch in pending_for(lambda t: products[t % 200]) for order in batch]]
        direct = [[order for batch in pending_for(lambda t: products[t % 200]) for order in batch]]

        def one_client(batches, moves):
            started = time.perf_counter()
            for order in batches[0]:
                for status in moves:
                    sales.update_sales_order(order=order, user=user, status=status)
            return time.perf_counter() - started

        two_alone = one_client(alone, confirm_fulfil)
        direct_alone = one_client(direct, (SalesOrder.Status.FULFILLED,))
        print(
            f"one client, {count} orders: confirm + fulfil {count / two_alone:.0f} orders/s, "
            f"fulfil directly {count / direct_alone:.0f} orders/s, "
            f"cost ratio (target <= 2.00): {two_alone / direct_alone:.2f}"
        )
        mismatches = list(ledger_mismatches())
        print(f"ledger mismatches after the run: {len(mismatches)}")
        assert not mismatches, mismatches[:5]
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
