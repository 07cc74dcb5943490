"""The Celery app (`config.celery:app`): Redis broker from REDIS_URL, UTC schedule.

Run exactly one beat: `celery -A config.celery:app beat`; workers: `... worker`.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stockroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.timezone = "UTC"
app.conf.enable_utc = True
app.conf.beat_schedule = {
    # API.md: every day at 00:00 UTC, one digest email per organization with something to report.
    "check-low-stock-daily": {
        "task": "alerts.tasks.check_low_stock",
        "schedule": crontab(minute=0, hour=0),
        "options": {"expires": 12 * 60 * 60},
    },
    # The stock ledger's nightly check that quantity == sum(delta) for every product.
    "reconcile-stock-ledger-nightly": {
        "task": "stock.tasks.reconcile_stock_ledger",
        "schedule": crontab(minute=0, hour=1),
        "options": {"expires": 12 * 60 * 60},
    },
}
app.autodiscover_tasks()
