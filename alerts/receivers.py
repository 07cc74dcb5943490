"""The alerts app hears about low-stock changes through the ledger's `low_stock_changed` hook."""

import logging
import time

from alerts import tasks

logger = logging.getLogger(__name__)

# After a failed publish, this process stops trying the broker for a few seconds: a request
# must not wait on a broker that is down. The events wait in the outbox for the sweep.
BROKER_RETRY_SECONDS = 5
_broker_down_until = 0.0


def deliver_after_commit(sender, *, organization_ids, **kwargs):
    """Sent after a commit that wrote outbox events: queue their delivery, never fail the
    request. If the broker is unreachable, the periodic sweep delivers them later."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return
    try:
        tasks.deliver_stock_alerts.delay()
    except Exception as exc:
        if tasks.deliver_stock_alerts.app.conf.task_always_eager:  # the delivery itself failed
            logger.exception("Delivering low-stock alerts failed; the next sweep retries")
            return
        _broker_down_until = time.monotonic() + BROKER_RETRY_SECONDS
        logger.warning(
            "Could not queue the low-stock delivery for organization(s) %s (%s); "
            "the periodic sweep will deliver it",
            organization_ids,
            exc,
        )
