"""Emails written down before they are sent, then sent with no transaction open and no row
locked, then marked sent: claiming one for a send, and backing off a failed one.

A model that goes out this way has `sent_at`, `attempts` and `next_attempt_at`. A send claims
its row for `SEND_LEASE` (another worker leaves it alone meanwhile; one that died mid-send is
retried after it, so only that one email can repeat); a failed send backs off 1, 2, 4 ...
minutes, at most `MAX_BACKOFF` apart, and the periodic sweep tries it again.
"""

import datetime
import logging
from collections.abc import Callable

from django.db.models import F, Model, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

SEND_LEASE = datetime.timedelta(minutes=5)
MAX_BACKOFF = datetime.timedelta(hours=1)


def send_claimed(*, due: QuerySet, pk: int, send: Callable[[Model], None], what: str) -> bool:
    """Claim row `pk` if it is among `due` (unsent, no lease held, its backoff over), hand it
    to `send`, and mark it sent. Returns whether it went out; a failure is logged and leaves it
    for a later attempt."""
    now = timezone.now()
    claimed = due.filter(pk=pk).update(next_attempt_at=now + SEND_LEASE, attempts=F("attempts") + 1)
    if not claimed:
        return False
    model = due.model
    row = model.objects.get(pk=pk)
    try:
        send(row)
    except Exception as exc:  # SMTP, network, a timeout: try again later
        backoff = min(datetime.timedelta(minutes=2 ** (row.attempts - 1)), MAX_BACKOFF)
        model.objects.filter(pk=pk).update(next_attempt_at=timezone.now() + backoff)
        logger.warning("%s %s not sent (%s); next attempt in %s", what, pk, exc, backoff)
        return False
    model.objects.filter(pk=pk).update(sent_at=timezone.now())
    return True
