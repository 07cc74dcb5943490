"""Reading imports: the organization's jobs, and a running job's progress."""

from django.core.cache import cache
from django.db.models import QuerySet

from imports.models import ImportJob


def import_jobs() -> QuerySet:
    """Jobs newest first, without their files."""
    return (
        ImportJob.objects.select_related("created_by").defer("data").order_by("-created_at", "-id")
    )


def processed_rows(job: ImportJob) -> int:
    """How far a running job has come (its worker writes it to the cache while the job's
    transaction is open); a finished job's own figure otherwise."""
    if job.status == ImportJob.Status.RUNNING:
        from imports.services import progress_key

        done = cache.get(progress_key(job.pk))
        if done is not None:
            return max(0, min(int(done), job.total_rows))
    return job.processed_rows
