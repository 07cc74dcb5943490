"""The webhooks hear about committed events through the outbox's `events_committed`, and about
deliveries to send now through `deliveries_ready`."""

from core.broker import queue_unless_pending
from webhooks import tasks
from webhooks.models import EVENT_TYPES


def dispatch_after_commit(sender, *, organization_ids, types, **kwargs):
    """Queue the fan-out of events a webhook may subscribe to, never failing the request: one
    for a burst of commits (one fan-out does every organization's events); with the broker
    unreachable, the periodic sweep does it later."""
    if not set(EVENT_TYPES) & set(types):
        return
    queue_unless_pending(tasks.dispatch_webhooks, what="the webhooks' fan-out")


def send_after_commit(sender, *, delivery_ids, **kwargs):
    tasks.queue_deliveries(delivery_ids)
