"""Requests per second of one web node against two behind the balancer, and the replica's share
of the database's transactions, on the cluster of tests/cluster/run.sh (`CLUSTER_BENCH=1`).

The mix is the read-heavy one a shop's back office makes: 8 teammates who do not write (so
their heavy reads may go to the replica), each looping over the product, level, ledger and
order lists, the dashboard and the reports, for SECONDS seconds against one node directly,
then as long against the balancer (two nodes). Both nodes stay up: the first phase simply
sends nothing to the second. On a shared machine these figures are noisy (other processes take
the CPU); docs/scaling.md says how they were taken.

    python -m bench.cluster --one http://127.0.0.1:5464 --two http://127.0.0.1:5463 \\
        --replica-stats CMD --primary-stats CMD
"""

import argparse
import collections
import json
import subprocess
import threading
import time
import uuid

from tests.cluster.traffic import PASSWORD, Client

READS = [
    "/api/products/",
    "/api/stock/levels/",
    "/api/stock/movements/",
    "/api/sales-orders/",
    "/api/dashboard/",
    "/api/dashboard/total-sales/",
    "/api/dashboard/top-products/",
]


def _count(command: str) -> int:
    run = subprocess.run(command, shell=True, check=True, capture_output=True, text=True)
    return int(run.stdout.strip() or 0)


def set_up(base: str, clients: int) -> list[str]:
    counts, lock = collections.Counter(), threading.Lock()
    boss = Client(base, counts, lock)
    tag = uuid.uuid4().hex[:6]
    status, body = boss.call(
        "POST",
        "/api/register/",
        {"username": f"bench{tag}", "email": f"bench{tag}@example.com", "password": PASSWORD},
    )
    assert status == 201, (status, body)
    boss.login(f"bench{tag}")
    for number in range(20):
        status, body = boss.call(
            "POST", "/api/products/", {"name": f"Bench {number}", "price": "2.00", "quantity": 50}
        )
        assert status == 201, (status, body)
    names = []
    for number in range(clients):
        name = f"reader{tag}{number}"
        status, body = boss.call(
            "POST",
            "/api/users/",
            {"username": name, "email": f"{name}@example.com", "password": PASSWORD,
             "role": "manager"},
        )  # fmt: skip
        assert status == 201, (status, body)
        names.append(name)
    return names


def phase(base: str, users: list[str], seconds: float, args) -> dict:
    counts, lock = collections.Counter(), threading.Lock()
    clients = []
    for name in users:
        client = Client(base, counts, lock)
        client.login(name)
        clients.append(client)
    time.sleep(args.sticky + 1)  # the logins' sticky marks expire: the reads may use the replica
    counts.clear()
    replica, primary = _count(args.replica_stats), _count(args.primary_stats)
    until = time.monotonic() + seconds

    def loop(client: Client, offset: int) -> None:
        step = offset
        while time.monotonic() < until:
            client.call("GET", READS[step % len(READS)])
            step += 1

    threads = [threading.Thread(target=loop, args=(c, n)) for n, c in enumerate(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    replica = _count(args.replica_stats) - replica
    primary = _count(args.primary_stats) - primary
    total = sum(counts.values())
    return {
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "statuses": dict(counts),
        "replica_transactions": replica,
        "primary_transactions": primary,
        "replica_share": round(replica / max(1, replica + primary), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", required=True, help="one node's URL")
    parser.add_argument("--two", required=True, help="the balancer's URL (two nodes)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--sticky", type=float, default=5)
    parser.add_argument("--replica-stats", required=True)
    parser.add_argument("--primary-stats", required=True)
    args = parser.parse_args()
    users = set_up(args.two, args.clients)
    result = {
        "clients": args.clients,
        "seconds": args.seconds,
        "one_node": phase(args.one, users, args.seconds, args),
        "two_nodes": phase(args.two, users, args.seconds, args),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
