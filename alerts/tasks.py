"""Celery tasks: the daily digest (beat, every hour: each organization's at its local
`digest_hour`) and the delivery of crossings and emails (after every commit that wrote outbox
events, and every minute on beat)."""

import datetime
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from alerts import services
from alerts.selectors import digests_due

logger = logging.getLogger(__name__)

# The database being unreachable is retried with backoff; email failures are not errors of
# the task: the email stays written and unsent, and the sweep tries it again with backoff.
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 5 * 60,
    "retry_jitter": True,
    "max_retries": 20,
}


@shared_task(name="alerts.tasks.check_low_stock", **DATABASE_RETRY)
def check_low_stock() -> list[int]:
    """Every hour: queue the digest of each organization whose local `digest_hour` has come,
    whose digest of its local day has not gone out, and that has something low, expired or
    expiring right now (API.md, Alerts)."""
    due = digests_due(at_digest_hour=True)
    for organization_id, day in due:
        send_low_stock_digest.delay(organization_id=organization_id, today=day.isoformat())
    logger.info("check_low_stock: %d organization(s) queued", len(due))
    return [organization_id for organization_id, _ in due]


@shared_task(name="alerts.tasks.send_low_stock_digest", **DATABASE_RETRY)
def send_low_stock_digest(organization_id: int, today: str | None = None) -> int | None:
    """Write and send one organization's digest for the day (at most one per day)."""
    day = datetime.date.fromisoformat(today) if today else None
    log = services.send_low_stock_digest(organization_id=organization_id, today=day)
    return log.pk if log else None


@shared_task(name="alerts.tasks.deliver_stock_alerts", **DATABASE_RETRY)
def deliver_stock_alerts() -> int:
    """Apply the ledger's outbox, write the crossing emails owed, send every email due."""
    return services.deliver_stock_alerts()
