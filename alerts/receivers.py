"""The alerts app hears about stock changes through the ledger's `stock_changed` hook."""

import logging

from alerts import services, tasks

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


def record_known_low_product(sender, *, product, **kwargs):
    """A product created at or below its threshold is low from the start: open its alert as
    already notified (it has not crossed "from above"; the daily digest lists it).

    Runs inside the creating transaction, so the alert exists before any later stock change
    is evaluated: a sale right after creation cannot be mistaken for the crossing, nor the
    creation for one.
    """
    services.open_known_low_alert(product=product)
