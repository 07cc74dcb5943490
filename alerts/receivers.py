"""The alerts app hears about low-stock changes through the outbox's `events_committed`."""

from alerts import tasks
from core.broker import queue_or_leave_for_sweep
from stock.services.outbox import RECOVERED, WENT_LOW


def deliver_after_commit(sender, *, organization_ids, types, **kwargs):
    """Sent after a commit that wrote outbox events: queue the delivery of the crossings among
    them, never failing the request. If the broker is unreachable, the periodic sweep delivers
    them later."""
    if not {WENT_LOW, RECOVERED} & set(types):
        return
    queue_or_leave_for_sweep(
        tasks.deliver_stock_alerts,
        what=f"the low-stock alerts of organization(s) {organization_ids}",
    )
