"""Celery tasks: a large import's run (queued after its job is committed), and the sweep that
queues again the jobs a dead worker or a down broker left behind (beat, every minute)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core.broker import queue_or_leave_for_sweep
from imports import services

# The database unreachable: retried with backoff (the sweep queues the job again anyway).
DATABASE_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 5 * 60,
    "max_retries": 10,
}


@shared_task(name="imports.tasks.run_import", acks_late=True)
def run_import(job_id: int) -> str | None:
    """Run one import job (a no-op when it has finished or another worker runs it)."""
    job = services.run_import(job_id=job_id)
    return job.status if job else None


@shared_task(name="imports.tasks.requeue_stuck_imports", **DATABASE_RETRY)
def requeue_stuck_imports() -> list[int]:
    """Every minute: queue again the jobs a dead worker or a down broker left behind (a job's
    row lock keeps one from running twice at once)."""
    stuck = services.stuck_imports()
    for job_id in stuck:
        queue_or_leave_for_sweep(run_import, what=f"import {job_id}", job_id=job_id)
    return stuck
