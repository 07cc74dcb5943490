"""The operator's way, over HTTP: a fresh PostgreSQL database, plain `migrate`, gunicorn
(without Redis, then with Redis and a worker), and the faults an operator meets: Redis going
away, PostgreSQL restarting, a worker killed in the middle of a fulfilment. After each, the
ledger is clean and every crossing was notified exactly once.

These are the README's deployment steps (README "Running with PostgreSQL and Redis").
"""

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.support.deploy import (
    PASSWORD,
    ROOT,
    Gunicorn,
    Process,
    RedisServer,
    TcpProxy,
    base_env,
    fresh_database,
    manage,
    open_shop,
    query,
    set_up,
)

pytestmark = pytest.mark.postgres


def add_product(shop, sku: str, quantity: int, threshold: int) -> dict:
    status, product = shop.post(
        "/api/products/",
        {"sku": sku, "name": f"Product {sku}", "price": "2.50", "quantity": quantity,
         "low_stock_threshold": threshold},
    )  # fmt: skip
    assert status == 201, product
    return product


def sell(shop, product: dict, quantity: int) -> tuple[int, dict]:
    return shop.post(
        "/api/sales-orders/",
        {"items": [{"product": product["id"], "quantity": quantity}], "status": "fulfilled"},
    )


def ledger_is_clean(env: dict) -> None:
    result = manage(env, "check_stock_ledger")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Stock ledger OK" in result.stdout


def sent_crossings(database_url: str) -> list[tuple]:
    """(product sku, crossings notified) for every crossing email that went out."""
    return query(
        database_url,
        "SELECT p.sku, count(*) FROM alerts_stockalert a"
        " JOIN inventory_product p ON p.id = a.product_id"
        " JOIN alerts_alertlog l ON l.id = a.log_id"
        " WHERE l.sent_at IS NOT NULL GROUP BY p.sku ORDER BY p.sku",
    )


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    return condition()


def test_migrate_then_gunicorn_without_redis_serves_a_shop(tmp_path):
    with fresh_database() as database_url:
        env = base_env(DATABASE_URL=database_url)
        set_up(env)
        server = Gunicorn(env, tmp_path / "gunicorn.log")
        try:
            client = server.client
            assert client.get("/api/health/") == (
                200,
                {"status": "ok", "database": "ok", "cache": "ok"},
            )
            shop = open_shop(client)
            tea = add_product(shop, "TEA", quantity=10, threshold=8)
            status, order = sell(shop, tea, 3)
            assert status == 201, order
            assert order["status"] == "fulfilled"
            assert shop.get(f"/api/products/{tea['id']}/")[1]["quantity"] == 7
            for path in ("/api/products/", "/api/dashboard/", "/api/stock/movements/"):
                assert shop.get(path)[0] == 200
            # Without Redis the crossing went out in-process, after the commit, once.
            assert sent_crossings(database_url) == [("TEA", 1)]
            assert "just went low" in server.output()
            # A chunked body (no Content-Length) is read, and refused over 2.5 MB.
            status, body = client.post_chunked(
                "/api/login/", b'{"username": "owner", "password": "%s"}' % PASSWORD.encode()
            )
            assert (status, sorted(body)) == (200, ["access", "refresh", "token", "user"])
            status, body = client.post_chunked("/api/login/", b'{"pad": "%s"}' % (b"x" * 3_000_000))
            assert status == 413, body
            # A chunked body gunicorn cannot decode, or one cut short, is a 400 JSON (issue 21).
            chunked = (
                "POST /api/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            malformed = b'zz\r\n{"username": "owner"}\r\n0\r\n\r\n'
            for body in (malformed, b'40\r\n{"username": "ow'):
                status, kind, answer = client.send_raw(chunked, body)
                assert (status, kind) == (400, "application/json"), answer
                assert json.loads(answer) == {"detail": "Malformed chunked request body."}
            # A request line over 4094 bytes never reaches Stockroom: gunicorn answers 414
            # itself, in HTML (README, "Answers that come from gunicorn").
            status, kind, answer = client.send_raw(
                f"GET /api/products/?search={'x' * 4100} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            )
            assert (status, kind) == (414, "text/html"), answer
            # Under /api/ even a URL that matches nothing answers JSON.
            assert shop.get("/api/products/1.5/") == (404, {"detail": "Not found."})
            # Plain HTTP (no TLS proxy in front) is sent to https.
            plain = client.authenticate("x")
            plain.headers.pop("X-Forwarded-Proto")
            status, _ = plain.get("/api/products/")
            assert status == 301
        finally:
            server.stop()
        assert "Traceback" not in server.output()
        ledger_is_clean(env)


def test_with_redis_and_a_worker_a_redis_outage_answers_without_500_and_loses_nothing(tmp_path):
    redis = RedisServer(tmp_path)
    with fresh_database() as database_url:
        env = base_env(DATABASE_URL=database_url, REDIS_URL=redis.url)
        set_up(env)
        server = Gunicorn(env, tmp_path / "gunicorn.log")
        worker = Process(
            [sys.executable, "-m", "celery", "-A", "config.celery:app", "worker",
             "--pool=solo", "--loglevel=INFO"],
            env,
            tmp_path / "worker.log",
        )  # fmt: skip
        try:
            client = server.client
            assert client.get("/api/health/")[1]["cache"] == "ok"
            shop = open_shop(client)
            products = [add_product(shop, f"P{n}", quantity=10, threshold=5) for n in range(4)]
            assert sell(shop, products[0], 6)[0] == 201  # a crossing, delivered by the worker
            assert wait_for(lambda: sent_crossings(database_url) == [("P0", 1)])

            redis.stop()
            statuses = []
            started = time.monotonic()
            for product in products[1:]:
                status, _ = sell(shop, product, 6)  # each one a crossing
                statuses.append(status)
            for _ in range(5):
                statuses += [
                    shop.get("/api/products/")[0],
                    shop.get("/api/dashboard/")[0],
                    client.post("/api/login/", {"username": "owner", "password": PASSWORD})[0],
                    client.post("/api/login/", {"username": "owner", "password": "bad"})[0],
                    client.get("/api/schema/")[0],
                    client.get("/api/docs/")[0],
                ]
            statuses.append(open_shop(client, username="newcomer").get("/api/users/me/")[0])
            elapsed = time.monotonic() - started
            assert 500 not in statuses, statuses
            assert set(statuses) <= {200, 201, 401}, statuses
            assert elapsed < 30
            health = client.get("/api/health/")
            assert health == (200, {"status": "degraded", "database": "ok", "cache": "unavailable"})
            # Committed, waiting in the outbox: past the alerts' cursor.
            waiting = (
                "SELECT count(*) FROM core_event e"
                " LEFT JOIN core_eventcursor c ON c.consumer = 'alerts'"
                " WHERE e.type IN ('stock.low', 'stock.recovered')"
                " AND (c.id IS NULL OR (e.txid, e.id) > (c.txid, c.event_id))"
            )
            assert query(database_url, waiting) == [(3,)]

            redis.start()  # the same port: the worker reconnects by itself
            assert wait_for(lambda: client.get("/api/health/")[1]["cache"] == "ok")
            result = manage(env, "deliver_stock_alerts")  # what beat runs every minute
            assert result.returncode == 0, result.stderr
            manage(env, "deliver_stock_alerts")
            expected = [("P0", 1), ("P1", 1), ("P2", 1), ("P3", 1)]
            assert wait_for(lambda: sent_crossings(database_url) == expected)
        finally:
            server.stop()
            worker.stop()
            redis.stop()
        assert query(database_url, "SELECT count(*) FROM alerts_stockalert") == [(4,)]
        assert "Traceback" not in server.output()
        ledger_is_clean(env)


def test_a_postgresql_restart_answers_json_503_then_recovers_by_itself(tmp_path):
    with fresh_database() as database_url:
        set_up(base_env(DATABASE_URL=database_url))
        proxy = TcpProxy(target_port=int(database_url.split(":")[-1].split("/")[0]))
        through_proxy = database_url.replace(
            f":{proxy.target_port}/", f":{proxy.port}/"
        )  # the server reaches PostgreSQL only through the proxy
        env = base_env(DATABASE_URL=through_proxy)
        server = Gunicorn(env, tmp_path / "gunicorn.log")
        try:
            shop = open_shop(server.client)
            add_product(shop, "TEA", quantity=5, threshold=0)
            for _ in range(10):
                assert shop.get("/api/products/")[0] == 200

            proxy.cut()  # PostgreSQL goes away, every pooled connection dies
            started = time.monotonic()
            status, body = server.client.get("/api/health/")
            health_seconds = time.monotonic() - started
            assert status == 503 and body["database"] == "unavailable"
            assert health_seconds < 2.5
            for path in ("/api/products/", "/api/dashboard/"):
                started = time.monotonic()
                status, body = shop.get(path)
                assert (status, sorted(body)) == (503, ["detail"])
                assert time.monotonic() - started < 6
            time.sleep(8)  # a longer outage: the pool's reconnection backoff has grown

            proxy.restore()  # back: the first requests succeed, none sees a dead connection
            statuses = [shop.get("/api/products/")[0] for _ in range(40)]
            statuses += [
                server.client.post("/api/login/", {"username": "owner", "password": PASSWORD})[0]
                for _ in range(10)
            ]
            assert statuses == [200] * 50, server.output()[-4000:]
        finally:
            server.stop()
            proxy.cut()
        assert "Traceback" not in server.output()
        assert "answered 503" in server.output()
        ledger_is_clean(base_env(DATABASE_URL=database_url))


KILLED_MID_FULFILMENT = textwrap.dedent(
    """
    import os, sys, time
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from stock.services import books
    from sales.models import SalesOrder
    from sales.services import update_sales_order

    real = books.insert_movements
    def taken_then_stuck(movements):
        created = real(movements)
        print("TAKEN", flush=True)  # stock is out, the transaction not committed yet
        time.sleep(120)
        return created
    books.insert_movements = taken_then_stuck
    order = SalesOrder.objects.get(pk=int(sys.argv[1]))
    update_sales_order(order=order, user=order.created_by, status="fulfilled")
    """
)


def test_a_worker_killed_mid_fulfilment_leaves_stock_and_ledger_as_they_were(tmp_path):
    with fresh_database() as database_url:
        env = base_env(DATABASE_URL=database_url)
        set_up(env)
        server = Gunicorn(env, tmp_path / "gunicorn.log")
        try:
            shop = open_shop(server.client)
            tea = add_product(shop, "TEA", quantity=5, threshold=3)
            status, order = shop.post(
                "/api/sales-orders/", {"items": [{"product": tea["id"], "quantity": 3}]}
            )
            assert status == 201
            victim = subprocess.Popen(
                [sys.executable, "-c", KILLED_MID_FULFILMENT, str(order["id"])],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert victim.stdout.readline().strip() == "TAKEN", victim.stderr.read()
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)

            assert shop.get(f"/api/sales-orders/{order['id']}/")[1]["status"] == "pending"
            assert shop.get(f"/api/products/{tea['id']}/")[1]["quantity"] == 5
            ledger_is_clean(env)
            started = time.monotonic()  # its locks went with it: no waiting
            status, fulfilled = shop.request(
                "PATCH", f"/api/sales-orders/{order['id']}/", {"status": "fulfilled"}
            )
            assert status == 200 and fulfilled["status"] == "fulfilled"
            assert time.monotonic() - started < 5
            assert shop.get(f"/api/products/{tea['id']}/")[1]["quantity"] == 2
            assert sent_crossings(database_url) == [("TEA", 1)]
        finally:
            server.stop()
        ledger_is_clean(env)
