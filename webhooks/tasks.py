"""Celery tasks: the fan-out after each commit that wrote events, one task per delivery (a slow
receiver holds only its own), and the sweep (beat, every minute)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core import broker
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
