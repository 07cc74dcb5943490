"""Mixed traffic through the load balancer of tests/cluster/run.sh, with the checks of issue 29.

Eight clients for DURATION seconds: sign-ups, receipts and sales on shared products, and the
heavy reads (product, level, ledger and order lists, the dashboard, reports). After every write
its writer's next read (through the balancer: either node) must show it. Midway the replica is
stopped (the `--stop-replica` / `--start-replica` commands), and started again later: no 5xx
meanwhile, health degraded while it is away, ok again once it is back. Then: the dashboard is
fresh on both nodes after a change on one, failed logins are counted across nodes (429 on the
sixth, alternating nodes), and `check_stock_ledger` is clean (run by run.sh).

Only the standard library: `python traffic.py --lb URL --nodes URL,URL --stop-replica CMD
--start-replica CMD --replica-stats CMD --primary-stats CMD`. Prints one JSON summary line
last; the exit status is 1 when a check failed.
"""

import argparse
import collections
import json
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

CLIENTS = 8
PASSWORD = "Cluster-pass-2026!"


class Client:
    """JSON over HTTP with a bearer token; counts every answer's status."""

    def __init__(self, base: str, counts: collections.Counter, lock: threading.Lock):
        self.base, self.counts, self.lock, self.token = base, counts, lock, None
        self.five_hundreds: list[str] = []

    def call(self, method: str, path: str, body=None, *, base: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request((base or self.base) + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            status, raw = 599, str(exc).encode()
        with self.lock:
            self.counts[status] += 1
            if status >= 500:
                self.five_hundreds.append(f"{method} {path} {status} {raw[:200]!r}")
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def login(self, username: str) -> None:
        credentials = {"username": username, "password": PASSWORD}
        status, body = self.call("POST", "/api/login/", credentials)
        assert status == 200, (status, body)
        self.token = body["access"]


class Run:
    def __init__(self, args):
        self.args = args
        self.counts = collections.Counter()
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.ops = collections.Counter()
        self.clients: list[Client] = []

    def fail(self, message: str) -> None:
        with self.lock:
            if len(self.failures) < 50:
                self.failures.append(message)

    def client(self, base=None) -> Client:
        client = Client(base or self.args.lb, self.counts, self.lock)
        self.clients.append(client)
        return client

    # --- Set-up: one shop, its teammates, shared products with stock ------------------------------

    def set_up(self) -> None:
        self.tag = uuid.uuid4().hex[:6]
        boss = self.client()
        status, body = boss.call(
            "POST",
            "/api/register/",
            {"username": f"boss{self.tag}", "email": f"boss{self.tag}@example.com",
             "password": PASSWORD, "organization": "Cluster shop"},
        )  # fmt: skip
        assert status == 201, (status, body)
        boss.login(f"boss{self.tag}")
        self.boss = boss
        self.products = []
        for number in range(5):
            status, body = boss.call(
                "POST",
                "/api/products/",
                {"name": f"Shared {number}", "price": "3.50", "cost_price": "2.00",
                 "quantity": 500},
            )  # fmt: skip
            assert status == 201, (status, body)
            self.products.append(body["id"])
        self.users = []
        for number in range(CLIENTS):
            username = f"till{self.tag}{number}"
            status, body = boss.call(
                "POST",
                "/api/users/",
                {"username": username, "email": f"{username}@example.com",
                 "password": PASSWORD, "role": "manager"},
            )  # fmt: skip
            assert status == 201, (status, body)
            self.users.append(username)

    # --- Traffic ----------------------------------------------------------------------------------

    def traffic(self, number: int, until: float) -> None:
        client = self.client()
        client.login(self.users[number])
        randomly = random.Random(number)
        while time.monotonic() < until:
            pick = randomly.random()
            if pick < 0.25:
                self.receipt(client, randomly)
            elif pick < 0.45:
                self.sale(client, randomly)
            elif pick < 0.48:  # each costs two password hashes: the dearest request there is
                self.sign_up(randomly)
            else:
                self.heavy_read(client, randomly)

    def receipt(self, client: Client, randomly) -> None:
        note = f"receipt-{uuid.uuid4().hex[:10]}"
        status, body = client.call(
            "POST",
            "/api/stock/movements/",
            {"product": randomly.choice(self.products), "movement_type": "IN",
             "quantity": randomly.randint(1, 5), "note": note},
        )  # fmt: skip
        self.ops["receipt"] += 1
        if status != 201:
            self.fail(f"receipt answered {status}: {body}")
            return
        status, listed = client.call("GET", f"/api/stock/movements/?search={note}")
        ids = [row["id"] for row in (listed or {}).get("results", [])]
        if status != 200 or body["id"] not in ids:
            self.fail(f"receipt {body['id']} not in its writer's next ledger read: {status}")

    def sale(self, client: Client, randomly) -> None:
        customer = f"cust-{uuid.uuid4().hex[:10]}"
        status, body = client.call(
            "POST",
            "/api/sales-orders/",
            {"customer_name": customer, "status": "fulfilled",
             "items": [{"product": randomly.choice(self.products), "quantity": 1}]},
        )  # fmt: skip
        self.ops["sale"] += 1
        if status == 400:  # out of stock: allowed, nothing changed
            self.ops["sale_refused"] += 1
            return
        if status != 201:
            self.fail(f"sale answered {status}: {body}")
            return
        status, listed = client.call("GET", f"/api/sales-orders/?search={customer}")
        ids = [row["id"] for row in (listed or {}).get("results", [])]
        if status != 200 or body["id"] not in ids:
            self.fail(f"sale {body['id']} not in its writer's next order list: {status}")

    def sign_up(self, randomly) -> None:
        client = Client(self.args.lb, self.counts, self.lock)
        username = f"new{uuid.uuid4().hex[:12]}"
        status, body = client.call(
            "POST",
            "/api/register/",
            {"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        self.ops["sign_up"] += 1
        if status != 201:
            self.fail(f"sign-up answered {status}: {body}")
            return
        client.login(username)
        status, products = client.call("GET", "/api/products/")
        if status != 200 or products["count"] != 0:
            self.fail(f"a new shop's product list answered {status}: {products}")
        status, me = client.call("GET", "/api/users/me/")
        if status != 200 or me["username"] != username:
            self.fail(f"a new user's /me answered {status}: {me}")

    HEAVY = [
        "/api/products/",
        "/api/stock/levels/",
        "/api/stock/movements/",
        "/api/sales-orders/",
        "/api/dashboard/",
        "/api/dashboard/total-sales/",
        "/api/dashboard/top-products/",
        "/api/products/alerts/",
    ]

    def heavy_read(self, client: Client, randomly) -> None:
        path = randomly.choice(self.HEAVY)
        status, body = client.call("GET", path)
        self.ops["read"] += 1
        if status != 200:
            self.fail(f"GET {path} answered {status}: {body}")

    # --- The replica stopped and started mid-run --------------------------------------------------

    def health(self) -> dict:
        status, body = Client(self.args.lb, collections.Counter(), threading.Lock()).call(
            "GET", "/api/health/"
        )
        return {"http": status, **(body or {})}

    def wait_health(self, replica: str, seconds: float) -> dict:
        deadline = time.monotonic() + seconds
        seen = {}
        while time.monotonic() < deadline:
            seen = self.health()
            if seen.get("replica") == replica:
                return seen
            time.sleep(0.3)
        self.fail(f"health never said replica {replica!r} within {seconds} s: {seen}")
        return seen

    def replica_outage(self, start: float) -> None:
        time.sleep(max(0.0, start + self.args.duration * 0.35 - time.monotonic()))
        subprocess.run(self.args.stop_replica, shell=True, check=True)
        down = self.wait_health("unavailable", 10)
        self.outage = {"health_while_down": down}
        if down.get("http") != 200 or down.get("status") != "degraded":
            self.fail(f"health while the replica is down: {down}")
        time.sleep(max(0.0, start + self.args.duration * 0.65 - time.monotonic()))
        subprocess.run(self.args.start_replica, shell=True, check=True)

    # --- After the traffic ------------------------------------------------------------------------

    def dashboard_fresh_across_nodes(self) -> None:
        """A receipt through node 1; the dashboard read through node 2, by the writer and by a
        teammate who wrote nothing lately (the replica's reader), shows it at once."""
        node1, node2 = self.args.nodes
        reader = self.client(node2)
        reader.login(self.users[0])
        time.sleep(self.args.sticky + 1)  # the teammate's own sticky mark has expired
        status, before = reader.call("GET", "/api/dashboard/")
        assert status == 200, (status, before)
        writer = self.client(node1)
        writer.token = self.boss.token
        status, body = writer.call(
            "POST",
            "/api/stock/movements/",
            {"product": self.products[0], "movement_type": "IN", "quantity": 7},
        )
        assert status == 201, (status, body)
        for who, client in (("teammate", reader), ("writer", writer)):
            status, after = client.call("GET", "/api/dashboard/", base=node2)
            if status != 200 or after["total_quantity"] != before["total_quantity"] + 7:
                time.sleep(2)
                _, later = client.call("GET", "/api/dashboard/", base=node2)
                _, product = client.call("GET", f"/api/products/{self.products[0]}/", base=node2)
                self.fail(
                    f"dashboard on node 2 for the {who} after a receipt on node 1: "
                    f"{before['total_quantity']} then {after.get('total_quantity')}, "
                    f"2 s later {later.get('total_quantity')}; {product.get('quantity')} {body}"
                )

    def throttle_across_nodes(self) -> None:
        """Failed logins for one username, alternating nodes: the sixth is a 429."""
        username = self.users[1]
        statuses = []
        for attempt in range(6):
            client = Client(self.args.nodes[attempt % 2], self.counts, self.lock)
            status, _ = client.call(
                "POST", "/api/login/", {"username": username, "password": "wrong-password"}
            )
            statuses.append(status)
        if statuses != [401] * 5 + [429]:
            self.fail(f"failed logins alternating nodes answered {statuses}")

    def stats(self, command: str) -> int:
        output = subprocess.run(command, shell=True, check=True, capture_output=True, text=True)
        return int(output.stdout.strip() or 0)

    def main(self) -> int:
        self.set_up()
        self.outage = {}
        replica_before = self.stats(self.args.replica_stats)
        primary_before = self.stats(self.args.primary_stats)
        start = time.monotonic()
        until = start + self.args.duration
        threads = [threading.Thread(target=self.traffic, args=(n, until)) for n in range(CLIENTS)]
        if self.args.stop_replica:
            threads.append(threading.Thread(target=self.replica_outage, args=(start,)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
        requests = sum(self.counts.values())
        replica_after = self.stats(self.args.replica_stats)
        primary_after = self.stats(self.args.primary_stats)
        back = self.wait_health("ok", 30) if self.args.stop_replica else self.health()
        if back.get("status") != "ok":
            self.fail(f"health after the replica came back: {back}")
        self.dashboard_fresh_across_nodes()
        self.throttle_across_nodes()
        five_hundreds = [line for client in self.clients for line in client.five_hundreds]
        if five_hundreds:
            self.fail(f"{len(five_hundreds)} answers 5xx, e.g. {five_hundreds[:3]}")
        replica_xacts = max(0, replica_after - replica_before)
        primary_xacts = max(0, primary_after - primary_before)
        summary = {
            "seconds": round(elapsed, 1),
            "requests": requests,
            "requests_per_second": round(requests / elapsed, 1),
            "statuses": dict(sorted(self.counts.items())),
            "operations": dict(self.ops),
            "replica_transactions": replica_xacts,
            "primary_transactions": primary_xacts,
            "replica_share": round(replica_xacts / max(1, replica_xacts + primary_xacts), 3),
            "outage": self.outage,
            "health_after": back,
            "failures": self.failures,
        }
        print(json.dumps(summary))
        return 1 if self.failures else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lb", required=True)
    parser.add_argument("--nodes", required=True, type=lambda value: value.split(","))
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--sticky", type=float, default=10)
    parser.add_argument("--stop-replica", default="")
    parser.add_argument("--start-replica", default="")
    parser.add_argument("--replica-stats", default="echo 0")
    parser.add_argument("--primary-stats", default="echo 0")
    return Run(parser.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())
