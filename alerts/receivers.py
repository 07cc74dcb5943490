"""The alerts app hears about low-stock changes through the ledger's `low_stock_changed` hook."""

from alerts import tasks
from core.broker import queue_or_leave_for_sweep


def deliver_after_commit(sender, *, organization_ids, **kwargs):
    """Sent after a commit that wrote outbox events: queue their delivery, never fail the
    request. If the broker is unreachable, the periodic sweep delivers them later."""
    queue_or_leave_for_sweep(
        tasks.deliver_stock_alerts,
        what=f"the low-stock alerts of organization(s) {organization_ids}",
    )
