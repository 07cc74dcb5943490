"""The Celery app (`config.celery:app`): Redis broker from REDIS_URL, UTC schedule."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stockroom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = {}
app.autodiscover_tasks()
