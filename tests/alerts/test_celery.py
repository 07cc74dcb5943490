"""Celery: the beat schedule, and the alert tasks run by a real worker over Redis."""

import copy
import datetime
import os
import time

import pytest
from celery.schedules import crontab
from django.core import mail

from alerts import tasks
from alerts.models import AlertLog, StockAlert
from config.celery import app
from core.dates import local_today
from stock.services import record_initial_stock, record_movement
from tests.factories import OrganizationFactory, ProductFactory, UserFactory
from users.models import Role

UTC = datetime.UTC


def _next_run(schedule: crontab, now: datetime.datetime) -> datetime.datetime:
    """When `schedule` fires next, seen from `now` (it last ran a minute before)."""
    frozen = copy.copy(schedule)
    frozen.nowfun = lambda: now
    return now + frozen.remaining_estimate(now - datetime.timedelta(minutes=1))


def test_low_stock_check_is_scheduled_every_hour_on_the_hour():
    """Each organization's digest goes out at the first run at or after its local digest hour
    (tests/alerts/test_digest_hour.py): beat runs the check at every full hour, UTC."""
    entry = app.conf.beat_schedule["check-low-stock-hourly"]
    schedule = entry["schedule"]

    assert entry["task"] == "alerts.tasks.check_low_stock"
    assert entry["task"] in app.tasks
    assert app.conf.timezone == "UTC"
    assert isinstance(schedule, crontab)
    assert schedule.minute == {0}
    assert schedule.hour == set(range(24))
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))
    assert schedule.month_of_year == set(range(1, 13))
    afternoon = datetime.datetime(2026, 11, 21, 13, 5, tzinfo=UTC)
    assert _next_run(schedule, afternoon) == datetime.datetime(2026, 11, 21, 14, 0, tzinfo=UTC)
    new_years_eve = datetime.datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)
    assert _next_run(schedule, new_years_eve) == datetime.datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    assert entry["options"]["expires"] < 60 * 60  # a run held up never overlaps the next


def test_ledger_reconciliation_is_scheduled_nightly():
    import stock.tasks  # noqa: F401  (a worker imports every app's tasks when it starts)

    entry = app.conf.beat_schedule["reconcile-stock-ledger-nightly"]

    assert entry["task"] == "stock.tasks.reconcile_stock_ledger"
    assert entry["task"] in app.tasks
    assert entry["schedule"].day_of_week == set(range(7))
    assert len(entry["schedule"].hour) == 1 and len(entry["schedule"].minute) == 1


def _wait_for(condition, *, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_alert_tasks_run_on_a_real_worker_over_redis():
    """The digest and a crossing, queued on Redis and run by a worker thread (not eagerly)."""
    from celery.contrib.testing.worker import start_worker

    assert not app.conf.task_always_eager
    assert app.conf.broker_url.startswith("redis://")
    app.control.purge()

    # Due whatever the hour the suite runs at (the digest goes out from the local digest hour on).
    shop = OrganizationFactory(name="Corner Shop", digest_hour=0)
    manager = UserFactory(organization=shop, role=Role.MANAGER, email="mike@corner.example")
    UserFactory(organization=shop, role=Role.ADMIN, email="alice@corner.example")
    UserFactory(organization=shop, role=Role.SALES, email="sam@corner.example")
    rival = OrganizationFactory(name="Rival Shop", digest_hour=0)
    UserFactory(organization=rival, role=Role.ADMIN, email="oscar@rival.example")

    # Committed stock that falls below the threshold: a crossing, queued on Redis at commit.
    tea = ProductFactory(organization=shop, sku="TEA-1", low_stock_threshold=5)
    record_initial_stock(product=tea, quantity=8, user=manager)
    record_movement(product=tea, movement_type="OUT", quantity=6, user=manager)  # 8 -> 2
    yoghurt = ProductFactory(
        organization=shop, sku="YOG-1", expiration_date=local_today(None), low_stock_threshold=5
    )
    record_initial_stock(product=yoghurt, quantity=3, user=manager)  # created low: no crossing
    record_initial_stock(
        product=ProductFactory(organization=shop, sku="FINE", low_stock_threshold=1),
        quantity=50,
        user=manager,
    )
    ProductFactory(organization=rival, sku="RIV-1")  # 0 <= 0: low, no movement

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        tasks.check_low_stock.delay()
        assert _wait_for(lambda: AlertLog.objects.count() >= 3), "the worker did not finish"
        time.sleep(0.5)  # nothing more may arrive

    logs = {
        (log.organization_id, log.kind): log
        for log in AlertLog.objects.order_by("id")
    }  # fmt: skip
    assert len(logs) == AlertLog.objects.count() == 3
    digest = logs[(shop.pk, AlertLog.Kind.DIGEST)]
    assert digest.recipients == ["mike@corner.example"]
    assert (digest.low_stock_count, digest.expired_count) == (
        2,
        1,
    )  # TEA-1 and YOG-1, which is expired too
    crossing = logs[(shop.pk, AlertLog.Kind.CROSSING)]
    assert (crossing.recipients, crossing.low_stock_count) == (["mike@corner.example"], 1)
    rival_digest = logs[(rival.pk, AlertLog.Kind.DIGEST)]
    assert rival_digest.recipients == ["oscar@rival.example"]

    assert len(mail.outbox) == 3
    to_manager = [m for m in mail.outbox if m.to == ["mike@corner.example"]]
    assert len(to_manager) == 2
    assert all("TEA-1" in m.body and "FINE" not in m.body for m in to_manager)
    assert [m.to for m in mail.outbox if "RIV-1" in m.body] == [["oscar@rival.example"]]
    assert not [m for m in mail.outbox if "sam@corner.example" in m.to]
    alert = StockAlert.objects.get()
    assert (alert.product_id, alert.closed_at is None, alert.notified_at is not None) == (
        tea.pk,
        True,
        True,
    )
