"""Queueing a task from a request without ever failing it or holding it on a broker that is
down: the work waits in the database (an outbox) and a periodic sweep does it once the broker
is back, so queueing is only a way to do it sooner."""

import logging
import time

logger = logging.getLogger(__name__)

# After a failed publish, this process stops trying the broker for a few seconds.
RETRY_SECONDS = 5
_down_until = 0.0


def queue_or_leave_for_sweep(task, *, what: str, **kwargs) -> bool:
    """`task.delay(**kwargs)`, or nothing when the broker is unreachable (logged, and not tried
    again for RETRY_SECONDS). Without a broker the task runs here and now; its failure is
    logged too. Returns whether it was queued (or ran)."""
    global _down_until
    if time.monotonic() < _down_until:
        return False
    try:
        task.delay(**kwargs)
    except Exception as exc:
        if task.app.conf.task_always_eager:  # the work itself failed, in-process
            logger.exception("Delivering %s failed; the next sweep retries", what)
            return False
        _down_until = time.monotonic() + RETRY_SECONDS
        logger.warning("Could not queue %s (%s); the periodic sweep will deliver it", what, exc)
        return False
    return True
