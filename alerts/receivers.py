"""The alerts app hears about stock changes through the ledger's `stock_changed` hook."""

import logging

from alerts import tasks

logger = logging.getLogger(__name__)


def enqueue_stock_alert_update(sender, *, organization_id, product_ids, **kwargs):
    """Sent after the stock change committed: only enqueue the work, never fail the request.

    If the broker is unreachable the change is still caught by the daily digest.
    """
    try:
        tasks.update_stock_alerts.delay(
            organization_id=organization_id, product_ids=list(product_ids)
        )
    except Exception:
        logger.exception(
            "Could not queue the low-stock check for organization %s, products %s",
            organization_id,
            product_ids,
        )
