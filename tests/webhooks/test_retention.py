"""Retention (EVENT_RETENTION_DAYS): a nightly job deletes finished webhook deliveries older
than that, then the outbox's events older than that which every consumer (the alerts, the
webhooks) has applied and no delivery still refers to."""

import datetime

import pytest
from django.utils import timezone

from alerts import services as alerts
from config.celery import app
from core import tasks as core_tasks
from core.models import Event, EventCursor
from stock.services import record_movement
from tests.factories import ProductFactory
from tests.support.webhooks import Receiver
from webhooks import services, tasks
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def changed(organization, manager_user, settings, eager_celery):
    """Five committed stock changes, each delivered to a webhook; the alerts applied the
    first four (beat's minute). Returns a function listing their events, oldest first."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.EVENT_RETENTION_DAYS = 30
    receiver = Receiver()
    try:
        services.create_webhook(
            organization=organization, url=receiver.url, events=["stock.changed"]
        )
        tea = ProductFactory(organization=organization, sku="TEA", low_stock_threshold=0)
        for count in range(5):
            if count == 4:
                alerts.record_crossings()
            record_movement(product=tea, movement_type="IN", quantity=1, user=manager_user)
        assert receiver.wait_for(5)
    finally:
        receiver.close()
    return lambda: list(Event.objects.filter(type="stock.changed").order_by("pk"))


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def test_old_finished_deliveries_go_then_the_events_every_consumer_applied(changed):
    events = changed()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    deliveries = [Delivery.objects.get(event=event) for event in events]
    # Events 0-2 and 4 are 31 days old; 3 is recent. Delivery 0 delivered and 1 failed long
    # ago, 2 still pending (a redelivery under way), 3 and 4 delivered today.
    old = [events[i].pk for i in (0, 1, 2, 4)]
    Event.objects.filter(pk__in=old).update(created_at=days_ago(31))
    Delivery.objects.filter(pk=deliveries[0].pk).update(delivered_at=days_ago(31))
    Delivery.objects.filter(pk=deliveries[1].pk).update(status="failed", give_up_at=days_ago(31))
    Delivery.objects.filter(pk=deliveries[2].pk).update(  # old dates: kept for its status
        status="pending", delivered_at=days_ago(31), give_up_at=days_ago(31)
    )
    Delivery.objects.filter(pk=deliveries[4].pk).update(delivered_at=days_ago(29))

    assert tasks.prune_deliveries() == 2
    assert sorted(Delivery.objects.values_list("event_id", flat=True)) == [
        events[2].pk, events[3].pk, events[4].pk,
    ]  # fmt: skip
    Delivery.objects.filter(pk=deliveries[4].pk).delete()  # as if it had aged too

    assert core_tasks.prune_events() == 2
    # Kept: 2 (its delivery is pending), 3 (recent), 4 (the alerts have not applied it yet).
    assert [event.pk for event in changed()] == [events[2].pk, events[3].pk, events[4].pk]

    alerts.record_crossings()
    assert core_tasks.prune_events() == 1
    assert [event.pk for event in changed()] == [events[2].pk, events[3].pk]


def test_nothing_is_pruned_for_a_consumer_that_never_ran_or_without_retention(changed, settings):
    Event.objects.update(created_at=days_ago(31))
    Delivery.objects.update(delivered_at=days_ago(31))
    count = Event.objects.count()

    settings.EVENT_RETENTION_DAYS = 0  # keep everything
    assert tasks.prune_deliveries() == 0 and core_tasks.prune_events() == 0
    settings.EVENT_RETENTION_DAYS = 30
    assert tasks.prune_deliveries() == 5
    EventCursor.objects.filter(consumer=alerts.CONSUMER).delete()  # it will read them all
    assert core_tasks.prune_events() == 0
    assert Event.objects.count() == count
    alerts.record_crossings()  # once it has run, they go
    assert core_tasks.prune_events() == count


def test_the_pruning_runs_nightly_deliveries_first():
    deliveries = app.conf.beat_schedule["prune-webhook-deliveries-nightly"]
    events = app.conf.beat_schedule["prune-events-nightly"]

    assert deliveries["task"] == "webhooks.tasks.prune_deliveries"
    assert events["task"] == "core.tasks.prune_events"
    assert {deliveries["task"], events["task"]} <= set(app.tasks)
    assert deliveries["schedule"].hour == events["schedule"].hour == {2}
    assert min(deliveries["schedule"].minute) < min(events["schedule"].minute)
