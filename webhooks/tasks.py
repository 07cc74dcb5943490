"""Celery tasks: the fan-out after each commit that wrote events, one task per delivery (a slow
receiver holds only its own), the sweep (beat, every minute) and the nightly pruning of
finished deliveries."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core import broker
from core.tasks import retention_start
from webhooks import services

# The database being unreachable is retried with backoff (as the alerts' tasks are).
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": 20,
}


@shared_task(name="webhooks.tasks.deliver_webhook", **DATABASE_RETRY)
def deliver_webhook(delivery_id: int) -> bool:
    return services.deliver(delivery_id=delivery_id)


def queue_deliveries(delivery_ids) -> None:
    """A task per delivery (sent here and now without a broker); one the broker refuses waits
    for the sweep."""
    for delivery_id in delivery_ids:
        broker.queue_or_leave_for_sweep(
            deliver_webhook, what=f"webhook delivery {delivery_id}", delivery_id=delivery_id
        )


@shared_task(name="webhooks.tasks.dispatch_webhooks", **DATABASE_RETRY)
def dispatch_webhooks() -> int:
    """After commits that wrote events (one task for a burst of them): their deliveries, each
    queued."""
    broker.started(dispatch_webhooks)  # what commits from now on queues the next fan-out
    made = services.fan_out()
    queue_deliveries(made)
    return len(made)


@shared_task(name="webhooks.tasks.sweep_webhooks", **DATABASE_RETRY)
def sweep_webhooks() -> int:
    """Every minute (beat): new events' deliveries and the retries whose delay is over."""
    due = services.sweep()
    queue_deliveries(due)
    return len(due)


@shared_task(name="webhooks.tasks.prune_deliveries")
def prune_deliveries() -> int:
    """Nightly (before the outbox's own pruning): delete the deliveries delivered or failed
    before the retention (`EVENT_RETENTION_DAYS`)."""
    before = retention_start()
    return services.prune_deliveries(before=before) if before else 0
