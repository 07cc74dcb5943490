"""Celery tasks: the daily digest (beat, 00:00 UTC) and the immediate low-stock crossings."""

import datetime
import logging
import smtplib

from celery import shared_task

from alerts import services
from alerts.selectors import organizations_to_alert
from inventory.selectors import utc_today

logger = logging.getLogger(__name__)

# A send that fails for a network or SMTP reason is retried with exponential backoff
# (1 s, 2 s, 4 s, ... capped at 30 minutes, jittered) for about a day before giving up.
RETRY_OPTIONS = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": True,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 60,
    "acks_late": True,
}


@shared_task(name="alerts.tasks.check_low_stock")
def check_low_stock(today: str | None = None) -> list[int]:
    """Queue one digest per organization that has something low or expired right now."""
    day = datetime.date.fromisoformat(today) if today else utc_today()
    organization_ids = list(organizations_to_alert(today=day))
    for organization_id in organization_ids:
        send_low_stock_digest.delay(organization_id=organization_id, today=day.isoformat())
    logger.info("check_low_stock %s: %d organization(s) queued", day, len(organization_ids))
    return organization_ids


@shared_task(name="alerts.tasks.send_low_stock_digest", **RETRY_OPTIONS)
def send_low_stock_digest(organization_id: int, today: str | None = None) -> int | None:
    """Send one organization's daily digest; retried with backoff until the send succeeds."""
    day = datetime.date.fromisoformat(today) if today else None
    log = services.send_low_stock_digest(organization_id=organization_id, today=day)
    return log.pk if log else None


@shared_task(name="alerts.tasks.update_stock_alerts")
def update_stock_alerts(organization_id: int, product_ids: list[int]) -> None:
    """Open/close the products' StockAlerts after a stock change; notify new crossings."""
    if services.update_stock_alerts(organization_id=organization_id, product_ids=product_ids):
        notify_low_stock_crossings.delay(organization_id=organization_id)


@shared_task(name="alerts.tasks.notify_low_stock_crossings", **RETRY_OPTIONS)
def notify_low_stock_crossings(organization_id: int) -> int | None:
    """Email the managers about products that just went low; retried until it is sent."""
    log = services.notify_low_stock_crossings(organization_id=organization_id)
    return log.pk if log else None
