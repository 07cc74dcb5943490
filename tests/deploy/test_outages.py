"""Outages that used to break Stockroom (issue 21), the operator's way: real gunicorn processes,
a Redis of the test's own and a PostgreSQL behind a proxy that the test cuts.

- Redis unreachable, then back with the data it kept (its append-only file after a restart, or
  a partition that only one node saw): a user demoted meanwhile is demoted on every node, and
  the dashboard is fresh; a password reset meanwhile answers 202 at once, known address or not,
  and its email goes out from the outbox once Redis is back.
- PostgreSQL down under load: requests fail at once (the circuit breaker) and /api/health/
  answers within a second; logins answered 503 meanwhile do not count as failed logins.
"""

import statistics
import threading
import time

import pytest

from tests.support.deploy import (
    PASSWORD,
    Gunicorn,
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


def timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def add_teammate(owner, username: str, role: str) -> dict:
    status, user = owner.post(
        "/api/users/",
        {"username": username, "email": f"{username}@corner.example", "password": PASSWORD,
         "role": role},
    )  # fmt: skip
    assert status == 201, user
    return user


def sees_as(client, role: str, product: dict) -> dict:
    """What a signed-in teammate is allowed on one node, as the role says it should be."""
    me = client.get("/api/users/me/")[1]
    cost = client.get(f"/api/products/{product['id']}/")[1]["cost_price"]
    status, _ = client.post("/api/products/", {"name": "Probe", "price": "1.00"})
    return {"role": me["role"], "sees costs": cost is not None, "creates products": status == 201}


MANAGER = {"role": "manager", "sees costs": True, "creates products": True}
SALES = {"role": "sales", "sees costs": False, "creates products": False}


def test_a_change_made_while_redis_was_unreachable_holds_on_every_node_once_it_is_back(tmp_path):
    """Two nodes on one PostgreSQL and one Redis that keeps its data; the writer node reaches
    Redis through a proxy. A manager demoted to sales while Redis was unreachable kept the
    manager's role on the other node once Redis was back (its cached user, at a version the
    change never moved on), and the dashboard was stale there."""
    redis = RedisServer(tmp_path, persist=True)
    proxy = TcpProxy(target_port=redis.port)
    with fresh_database() as database_url:
        reader_env = base_env(DATABASE_URL=database_url, REDIS_URL=redis.url)
        writer_env = base_env(
            DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0"
        )
        set_up(reader_env)
        reader = Gunicorn(reader_env, tmp_path / "reader.log", workers=1)
        writer = Gunicorn(writer_env, tmp_path / "writer.log", workers=1)
        try:
            owner = open_shop(writer.client)
            status, tea = owner.post(
                "/api/products/",
                {"sku": "TEA", "name": "Tea", "price": "2.50", "cost_price": "1.20",
                 "quantity": 10},
            )  # fmt: skip
            assert status == 201, tea
            mike = add_teammate(owner, "mike", "manager")
            status, session = reader.client.post(
                "/api/login/", {"username": "mike", "password": PASSWORD}
            )
            assert status == 200, session
            manager = reader.client.authenticate(session["access"])
            assert sees_as(manager, "manager", tea) == MANAGER  # cached on the reader now
            value = manager.get("/api/dashboard/")[1]["total_inventory_value"]

            # 1. Redis stops; it starts again from its append-only file, with what it had.
            redis.stop()
            status, _ = owner.request("PATCH", f"/api/users/{mike['id']}/", {"role": "sales"})
            assert status == 200
            status, _ = owner.post(
                "/api/stock/movements/",
                {"product": tea["id"], "movement_type": "IN", "quantity": 4, "unit_cost": "1.20"},
            )
            assert status == 201
            # A password reset meanwhile: 202 at once, whether or not the address is known.
            for email in ("mike@corner.example", "nobody@corner.example"):
                (status, _), seconds = timed(
                    lambda email=email: writer.client.post("/api/password-reset/", {"email": email})
                )
                assert status == 202 and seconds < 1, (email, status, seconds)
            redis.start()

            assert sees_as(manager, "sales", tea) == SALES
            assert manager.get("/api/dashboard/")[1]["total_inventory_value"] != value
            # The reset email waited in the outbox; the sweep (beat, every minute) sends it.
            result = manage(writer_env, "deliver_password_resets")
            assert result.returncode == 0, result.stderr
            assert query(
                database_url,
                "SELECT count(*) FROM users_passwordresetrequest WHERE sent_at IS NOT NULL",
            ) == [(1,)]

            # 2. A partition: only the writer loses Redis; the reader uses it all along.
            status, _ = owner.request("PATCH", f"/api/users/{mike['id']}/", {"role": "manager"})
            assert status == 200
            assert sees_as(manager, "manager", tea) == MANAGER  # cached again on the reader
            proxy.cut()
            status, _ = owner.request("PATCH", f"/api/users/{mike['id']}/", {"role": "sales"})
            assert status == 200
            assert sees_as(manager, "sales", tea) == SALES
            proxy.restore()
            assert sees_as(manager, "sales", tea) == SALES
        finally:
            reader.stop()
            writer.stop()
            proxy.cut()
            redis.stop()
        for server in (reader, writer):
            assert "Traceback" not in server.output()


def test_postgresql_down_under_load_fails_at_once_and_health_answers_within_a_second(tmp_path):
    """8 clients while PostgreSQL is cut: each got its 503 after 6.2 s (p50; the pool's 3 s
    wait, queued behind another), and /api/health/ answered twice in 15 s. Now the breaker
    answers at once, health within a second; the logins answered 503 meanwhile do not count as
    failed logins, so the right password works at once when the database is back."""
    redis = RedisServer(tmp_path)  # the login counter lives in Redis, as in production
    with fresh_database() as database_url:
        set_up(base_env(DATABASE_URL=database_url))
        proxy = TcpProxy(target_port=int(database_url.split(":")[-1].split("/")[0]))
        through_proxy = database_url.replace(f":{proxy.target_port}/", f":{proxy.port}/")
        env = base_env(DATABASE_URL=through_proxy, REDIS_URL=redis.url)
        server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2)
        try:
            shop = open_shop(server.client)
            assert shop.get("/api/products/")[0] == 200

            proxy.cut()
            answers, health, logins = [], [], []
            until = time.monotonic() + 4

            def client():
                while time.monotonic() < until:
                    (status, body), seconds = timed(lambda: shop.get("/api/products/"))
                    kind = tuple(sorted(body)) if isinstance(body, dict) else body
                    answers.append((status, kind, seconds))

            clients = [threading.Thread(target=client) for _ in range(8)]
            for thread in clients:
                thread.start()
            while time.monotonic() < until:
                (status, _), seconds = timed(lambda: server.client.get("/api/health/"))
                health.append((status, seconds))
                if len(logins) < 6:  # a client retrying its login through the outage
                    logins.append(
                        server.client.post("/api/login/", {"username": "owner",
                                                           "password": PASSWORD})[0]
                    )  # fmt: skip
                time.sleep(0.2)
            for thread in clients:
                thread.join(timeout=30)

            assert {(status, body) for status, body, _ in answers} == {(503, ("detail",))}
            assert statistics.median(seconds for *_, seconds in answers) < 1, answers
            assert {status for status, _ in health} == {503}
            assert max(seconds for _, seconds in health) < 1, health
            assert logins == [503] * 6

            proxy.restore()
            # Back: the right password logs in (the six 503s were not failures).
            status = None
            for _ in range(50):
                status, _ = server.client.post(
                    "/api/login/", {"username": "owner", "password": PASSWORD}
                )
                if status != 503:
                    break
                time.sleep(0.2)
            assert status == 200
            assert server.client.get("/api/health/")[0] == 200
        finally:
            server.stop()
            proxy.cut()
            redis.stop()
        assert "Traceback" not in server.output()
