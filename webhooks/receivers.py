"""The webhooks hear about committed events through the outbox's `events_committed`, and about
deliveries to send now through `deliveries_ready`."""

from core.broker import queue_or_leave_for_sweep
from webhooks import tasks
from webhooks.models import EVENT_TYPES


def dispatch_after_commit(sender, *, organization_ids, types, **kwargs):
    """Queue the fan-out of events a webhook may subscribe to, never failing the request; with
    the broker unreachable, the periodic sweep does it later."""
    if not set(EVENT_TYPES) & set(types):
        return
    queue_or_leave_for_sweep(
        tasks.dispatch_webhooks, what=f"the webhooks of organization(s) {organization_ids}"
    )


def send_after_commit(sender, *, delivery_ids, **kwargs):
    tasks.queue_deliveries(delivery_ids)
