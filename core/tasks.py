"""Celery tasks of the core: the outbox's nightly pruning (beat)."""

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core import events


def retention_start() -> datetime.datetime | None:
    """What was created before this is past `EVENT_RETENTION_DAYS` (None: keep everything)."""
    if settings.EVENT_RETENTION_DAYS <= 0:
        return None
    return timezone.now() - datetime.timedelta(days=settings.EVENT_RETENTION_DAYS)


@shared_task(name="core.tasks.prune_events")
def prune_events() -> int:
    """Nightly: delete the events past the retention that every consumer has applied."""
    before = retention_start()
    return events.prune(before=before) if before else 0
