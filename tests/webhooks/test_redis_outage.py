"""Redis (the broker) stopped while stock changes commit: the changes commit at once, and every
event reaches the receiver once Redis is back (the sweep, as beat runs it every minute)."""

import contextlib
import json
import shutil

import pytest

from config.celery import app
from stock.services import record_movement
from tests.factories import ProductFactory
from tests.support.deploy import RedisServer
from tests.support.webhooks import Receiver
from webhooks import services, tasks
from webhooks.models import Delivery

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


@contextlib.contextmanager
def broker_at(url: str):
    """Celery publishing to (and a worker consuming from) the test's own Redis."""
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        app._pool = None
        app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_events_committed_while_redis_is_down_all_arrive_once_it_is_back(
    tmp_path, organization, manager_user, settings, monkeypatch
):
    from celery.contrib.testing.worker import start_worker

    from core import broker

    settings.WEBHOOK_ALLOW_PRIVATE = True
    monkeypatch.setattr(broker, "_down_until", 0.0)
    redis = RedisServer(tmp_path)
    receiver = Receiver()
    try:
        with broker_at(redis.url):
            services.create_webhook(
                organization=organization,
                url=receiver.url,
                events=["stock.changed", "stock.low"],
            )
            tea = ProductFactory(organization=organization, sku="TEA", low_stock_threshold=5)

            redis.stop()
            for movement_type, quantity in (("IN", 10), ("OUT", 3), ("OUT", 4)):
                record_movement(
                    product=tea, movement_type=movement_type, quantity=quantity, user=manager_user
                )
            tea.refresh_from_db()
            assert tea.quantity == 3  # every change committed, Redis or not
            assert receiver.requests == []  # nothing could be queued

            redis.start()
            # The worker is another process in production, which never saw the outage.
            monkeypatch.setattr(broker, "_down_until", 0.0)
            with start_worker(
                app, pool="solo", perform_ping_check=False, shutdown_timeout=10,
                loglevel="WARNING",
            ):  # fmt: skip
                tasks.sweep_webhooks.delay()  # beat's minute
                assert receiver.wait_for(4), receiver.types()
        events = receiver.events()
        assert sorted(event["type"] for event in events) == ["stock.changed"] * 3 + ["stock.low"]
        changed = [e["data"] for e in events if e["type"] == "stock.changed"]
        assert sorted(data["quantity"] for data in changed) == [3, 7, 10]
        assert len({event["id"] for event in events}) == 4
        assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
        assert all(json.loads(r["body"])["organization"] == organization.pk
                   for r in receiver.requests)  # fmt: skip
    finally:
        receiver.close()
        redis.stop()


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_queues_one_fan_out_and_every_event_arrives(
    tmp_path, organization, manager_user, settings, monkeypatch
):
    """The fan-out is queued once while one waits (a Redis key, not a publish per change); a
    change committed after the queued fan-out started queues the next one."""
    import redis as redis_client
    from celery.contrib.testing.worker import start_worker

    from core import broker

    settings.WEBHOOK_ALLOW_PRIVATE = True
    monkeypatch.setattr(broker, "_down_until", 0.0)
    redis = RedisServer(tmp_path)
    receiver = Receiver()
    queue = redis_client.Redis.from_url(redis.url)
    try:
        with broker_at(redis.url):
            services.create_webhook(
                organization=organization, url=receiver.url, events=["stock.changed"]
            )
            tea = ProductFactory(organization=organization, sku="TEA", low_stock_threshold=0)
            queue.delete("celery")  # what creating them queued, as if a worker took it
            broker.started(tasks.dispatch_webhooks)

            def change():
                record_movement(product=tea, movement_type="IN", quantity=1, user=manager_user)

            for _ in range(5):
                change()
            queued = [json.loads(m)["headers"]["task"] for m in queue.lrange("celery", 0, -1)]
            assert queued.count("webhooks.tasks.dispatch_webhooks") == 1  # one for the burst

            with start_worker(
                app, pool="solo", perform_ping_check=False, shutdown_timeout=10,
                loglevel="WARNING",
            ):  # fmt: skip
                assert receiver.wait_for(5), receiver.types()
                change()  # after the fan-out started: queued again
                assert receiver.wait_for(6), receiver.types()
        quantities = sorted(event["data"]["quantity"] for event in receiver.events())
        assert quantities == [1, 2, 3, 4, 5, 6]
    finally:
        receiver.close()
        redis.stop()
