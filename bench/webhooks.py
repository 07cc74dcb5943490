"""Webhooks: what the outbox costs a stock change, and how fast deliveries go out (PostgreSQL).

1. The extra time per stock change: N single-unit movements (`record_movement`, as the API's
   POST /api/stock/movements/ calls it) with the outbox off (no event written, nobody told),
   with the event alone (written in the movement's INSERT, nobody told after commit), and
   with the outbox on with 3 subscribed webhooks (the `stock.changed` event, and after commit
   the fan-out task queued on Redis unless one is pending: a Redis of the benchmark's own, on
   its own port). Nothing is delivered in the request.
2. Delivery: the fan-out of those N events into 3N deliveries, then the deliveries sent by
   `BENCH_WEBHOOK_WORKERS` threads (as that many worker processes would) to a local receiver
   (a threaded HTTP server answering 200): deliveries per second.

Run: `DATABASE_URL=postgres://... SECRET_KEY=x python -m bench webhooks`.
Options: BENCH_WEBHOOK_CHANGES (10000), BENCH_WEBHOOK_WORKERS (8).
"""

import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Receiver(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Receiver.lock:
            _Receiver.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _redis_server():
    """A redis-server of the benchmark's own (never the machine's shared one), or None."""
    import socket

    binary = shutil.which("redis-server")
    if not binary:
        return None, None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    return proc, f"redis://127.0.0.1:{port}/0"


def _queries(product, user) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _moves(product, user, 1)
    return len(captured)


def _moves(product, user, count: int, before=None) -> list[float]:
    from stock.services import record_movement

    timings = []
    for _ in range(count):
        if before:
            before()  # not timed
        started = time.perf_counter()
        record_movement(product=product, movement_type="IN", quantity=1, user=user)
        timings.append(time.perf_counter() - started)
    return timings


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

    if connection.vendor != "postgresql":
        print("webhooks needs PostgreSQL (set DATABASE_URL=postgres://...); skipped")
        return
    changes = int(os.environ.get("BENCH_WEBHOOK_CHANGES", "10000"))
    workers = int(os.environ.get("BENCH_WEBHOOK_WORKERS", "8"))
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    if isinstance(pool, dict):
        pool["max_size"] = max(pool.get("max_size", 0), workers + 5)

    from config.celery import app
    from core import broker, events
    from core.bulk import insert_rows
    from core.models import Event
    from inventory.models import Product
    from stock.services import books
    from webhooks import services, tasks
    from webhooks.models import Delivery

    redis, broker_url = _redis_server()
    app.conf.task_always_eager = False
    app.conf.broker_url = broker_url or "memory://"
    settings.WEBHOOK_ALLOW_PRIVATE = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"

    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        from bench.seed import make_organization

        organization, user = make_organization()
        product = Product.objects.create(
            organization=organization, sku="BENCH-1", name="Bench", price="1.00"
        )
        _moves(product, user, 200)  # warm up

        # 1. The outbox off (no event, nobody told after commit), the event alone (written
        # with the movement, nobody told) and on (the event, then after commit the fan-out
        # queued for the 3 webhooks), in alternating blocks of 100 changes, so that the
        # machine's load weighs on all three alike.
        for n in range(3):
            services.create_webhook(
                organization=organization, url=f"{url}/{n}", events=["stock.changed"]
            )
        saved = (books.insert_movements, events.events_committed.receivers)

        def outbox(mode: str):
            books.insert_movements, events.events_committed.receivers = saved
            if mode == "off":  # the movements alone, as bulk_create writes them
                books.insert_movements = insert_rows
            if mode not in ("on", "each"):
                events.events_committed.receivers = []
            events.events_committed.sender_receivers_cache.clear()

        def nothing_pending():  # as if a worker had just taken the last fan-out queued
            broker.started(tasks.dispatch_webhooks)

        def last_event() -> int:
            return Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        timings = {"off": [], "event": [], "on": [], "each": []}
        unsent = []  # events of the modes other than "on": only the outbox on's are delivered
        for block in range(0, changes, 100):
            for mode, values in timings.items():
                outbox(mode)
                before = last_event()
                values += _moves(
                    product, user, min(100, changes - block),
                    before=nothing_pending if mode == "each" else None,
                )  # fmt: skip
                if mode != "on":
                    unsent.append((before, last_event()))
        statements = {}
        for mode in ("off", "on"):
            outbox(mode)
            before = last_event()
            statements[mode] = _queries(product, user)
            unsent.append((before, last_event()))
        outbox("off")
        for after, upto in unsent:
            Event.objects.filter(pk__gt=after, pk__lte=upto).delete()

        def ms(values):
            return statistics.mean(values) * 1000

        def p95(values):
            return sorted(values)[int(len(values) * 0.95)] * 1000

        off, event, on, each = timings.values()
        print(
            f"{changes} stock changes of each kind, one at a time, PostgreSQL; broker: "
            f"{'a Redis of its own' if redis else 'none (memory)'}"
        )
        rows = [
            ("outbox off", off, ""),
            ("the event only", event, ""),
            ("outbox on, 3 webhooks", on, ""),
            ("on, nothing pending", each, " (each change queues a fan-out, as when a worker "
             "takes each one at once)"),
        ]  # fmt: skip
        for label, values, note in rows:
            print(f"  {label + ':':23}mean {ms(values):.3f} ms, p95 {p95(values):.3f} ms per "
                  f"change, {ms(values) - ms(off):+.3f} ms{note}")  # fmt: skip
        print(f"  extra per change (on): {ms(on) - ms(off):+.3f} ms (mean): the event "
              f"{ms(event) - ms(off):+.3f} ms, after commit {ms(on) - ms(event):+.3f} ms; "
              f"SQL statements {statements['off']} -> {statements['on']}")  # fmt: skip
        assert Delivery.objects.count() == 0, "a delivery was made in the request"

        # 2. Fan-out, then deliveries by `workers` threads.
        started = time.perf_counter()
        made = services.fan_out()
        fan_out = time.perf_counter() - started
        print(f"  fan-out: {len(made)} deliveries from {changes} events in {fan_out:.2f} s "
              f"({len(made) / fan_out:,.0f}/s)")  # fmt: skip
        queue = list(made)
        lock = threading.Lock()

        def work():
            try:
                while True:
                    with lock:
                        if not queue:
                            return
                        delivery_id = queue.pop()
                    services.deliver(delivery_id=delivery_id)
            finally:
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        delivered = Delivery.objects.filter(status="delivered").count()
        print(f"  delivery: {delivered} of {len(made)} delivered by {workers} threads in "
              f"{seconds:.2f} s: {delivered / seconds:,.0f} deliveries/s; "
              f"the receiver got {_Receiver.received}")  # fmt: skip
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
        server.shutdown()
        if redis:
            redis.kill()
            redis.wait(timeout=5)
