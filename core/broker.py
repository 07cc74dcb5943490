"""Queueing a task from a request without ever failing it or holding it on a broker that is
down: the work waits in the database (an outbox) and a periodic sweep does it once the broker
is back, so queueing is only a way to do it sooner.

`queue_unless_pending` queues a task that takes no arguments and does all the work waiting
(a fan-out of the outbox) at most once while one is queued and not started: a burst of
commits queues one task. "Pending" is a short-lived key next to the queue (SET NX with a TTL
on the Redis broker) that the task deletes as it starts (`started`), before it reads the
work: what commits after that queues the next one. A key left behind (a task lost) only
expires; the periodic sweep does the work meanwhile."""

import logging
import time

logger = logging.getLogger(__name__)

# After a failed publish, this process stops trying the broker for a few seconds.
RETRY_SECONDS = 5
_down_until = 0.0
# How long a queued task counts as pending: after that, the next commit queues another (the
# first may be lost, or behind a long queue: a second one then finds nothing to do).
PENDING_SECONDS = 10
_clients: dict = {}


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


def queue_unless_pending(task, *, what: str) -> bool:
    """`queue_or_leave_for_sweep(task)` unless one queued is still pending (see the module's
    docstring); without a Redis broker (tasks run in-process, or another transport), always.
    Returns whether it was queued now."""
    global _down_until
    client = _redis(task.app)
    if client is None:
        return queue_or_leave_for_sweep(task, what=what)
    if time.monotonic() < _down_until:
        return False
    try:
        if not client.set(_pending_key(task), 1, nx=True, ex=PENDING_SECONDS):
            return False  # one is queued and has not started: it will do this work too
    except Exception as exc:
        _down_until = time.monotonic() + RETRY_SECONDS
        logger.warning("Could not queue %s (%s); the periodic sweep will deliver it", what, exc)
        return False
    if queue_or_leave_for_sweep(task, what=what):
        return True
    _forget_pending(client, task)  # not queued after all: the next commit tries again
    return False


def started(task) -> None:
    """Called by a task queued by `queue_unless_pending` before it reads its work: commits from
    now on queue another."""
    client = _redis(task.app)
    if client is not None:
        _forget_pending(client, task)


def _forget_pending(client, task) -> None:
    try:
        client.delete(_pending_key(task))
    except Exception as exc:  # the key expires on its own
        logger.warning("Could not clear the pending mark of %s (%s)", task.name, exc)


def _pending_key(task) -> str:
    return f"stockroom:pending:{task.name}"


def _redis(app):
    """A client of the Redis broker (one per broker URL, its own small pool, the broker's
    timeouts), or None when tasks run in-process or the broker is not Redis."""
    url = app.conf.broker_url or ""
    if app.conf.task_always_eager or not url.startswith(("redis://", "rediss://")):
        return None
    if url not in _clients:
        import redis

        options = app.conf.broker_transport_options or {}
        _clients[url] = redis.Redis.from_url(
            url,
            socket_connect_timeout=options.get("socket_connect_timeout", 1),
            socket_timeout=options.get("socket_timeout", 2),
        )
    return _clients[url]
