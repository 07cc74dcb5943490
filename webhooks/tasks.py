"""Celery tasks: the fan-out after each commit that wrote events, one task per delivery (a slow
receiver holds only its own), and the sweep (beat, every minute)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from webhooks import services

# The database being unreachable is retried with backoff (as the alerts' tasks are).
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": 20,
}


@shared_task(name="webhooks.tasks.dispatch_webhooks", **DATABASE_RETRY)
def dispatch_webhooks() -> int:
    """New events into deliveries, each queued."""
    return services.dispatch()


@shared_task(name="webhooks.tasks.deliver_webhook", **DATABASE_RETRY)
def deliver_webhook(delivery_id: int) -> bool:
    return services.deliver(delivery_id=delivery_id)


@shared_task(name="webhooks.tasks.sweep_webhooks", **DATABASE_RETRY)
def sweep_webhooks() -> int:
    return services.sweep()
