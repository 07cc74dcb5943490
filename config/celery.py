"""The Celery app (`config.celery:app`): Redis broker from REDIS_URL, UTC schedule.

Run exactly one beat: `celery -A config.celery:app beat`; workers: `... worker`.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init, celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stockroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.timezone = "UTC"
app.conf.enable_utc = True
app.conf.beat_schedule = {
    # API.md, Alerts: every hour; each organization with something to report gets its digest
    # at the first run at or after its local digest_hour, once per local day.
    "check-low-stock-hourly": {
        "task": "alerts.tasks.check_low_stock",
        "schedule": crontab(minute=0),
        "options": {"expires": 55 * 60},
    },
    # The alerts outbox: crossings committed while the broker or a worker was down, and emails
    # whose send failed, go out within a minute of the next sweep (none lost, none twice).
    "deliver-stock-alerts": {
        "task": "alerts.tasks.deliver_stock_alerts",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Webhooks: events committed while the broker or the workers were down, and the retries
    # whose delay is over (API.md, Webhooks: growing delays for 24 hours).
    "sweep-webhooks": {
        "task": "webhooks.tasks.sweep_webhooks",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Retention (EVENT_RETENTION_DAYS): finished webhook deliveries, then the outbox's events
    # that every consumer has applied and nothing refers to any more.
    "prune-webhook-deliveries-nightly": {
        "task": "webhooks.tasks.prune_deliveries",
        "schedule": crontab(minute=10, hour=2),
        "options": {"expires": 12 * 60 * 60},
    },
    "prune-events-nightly": {
        "task": "core.tasks.prune_events",
        "schedule": crontab(minute=40, hour=2),
        "options": {"expires": 12 * 60 * 60},
    },
    # Password-reset emails requested while the broker was unreachable, and failed sends.
    "deliver-password-resets": {
        "task": "users.tasks.deliver_password_resets",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Imports whose worker died (or whose task was never queued: the broker was down) are
    # queued again; a job's row lock keeps one from running twice at once.
    "requeue-stuck-imports": {
        "task": "imports.tasks.requeue_stuck_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # The stock ledger's nightly check that quantity == sum(delta) for every product.
    "reconcile-stock-ledger-nightly": {
        "task": "stock.tasks.reconcile_stock_ledger",
        "schedule": crontab(minute=0, hour=1),
        "options": {"expires": 12 * 60 * 60},
    },
}
app.autodiscover_tasks()


@celeryd_init.connect
@beat_init.connect
def _refuse_insecure_secret_key(**kwargs):
    """Workers and beat refuse a missing or placeholder SECRET_KEY as the web server does."""
    from core.checks import refuse_insecure_secret_key

    refuse_insecure_secret_key()
