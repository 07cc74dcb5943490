"""Starting an import: checked and recorded by `imports.services`, then run here and now (up
to IMPORT_SYNC_ROWS rows) or by a Celery worker (`imports.tasks.run_import`, queued after the
job is committed; if the broker is down, the sweep queues it later). The API's view and the
admin's page both start imports here."""

from functools import partial

from django.conf import settings
from django.db import transaction

from core.broker import queue_or_leave_for_sweep
from core.errors import BrokenRule
from imports import services, tasks
from imports.models import ImportJob


def start_import(**options) -> ImportJob:
    """Check the file (a 400 otherwise, nothing stored), record the job and run it: here and
    now when it is small, else in the background. Takes `services.create_job`'s options."""
    job = services.create_job(**options)
    if job.total_rows <= settings.IMPORT_SYNC_ROWS:
        services.run_import(job_id=job.pk)
    else:
        transaction.on_commit(
            partial(queue_or_leave_for_sweep, tasks.run_import, what=f"import {job.pk}",
                    job_id=job.pk),
            robust=True,
        )  # fmt: skip
    job.refresh_from_db()
    return job


def import_checked_file(*, job: ImportJob, user) -> ImportJob:
    """The real run of a checked dry run's file, with the same options (the admin's "Import"
    after its dry run)."""
    if job.status != ImportJob.Status.CHECKED or not job.dry_run or job.data is None:
        raise BrokenRule("Only a checked dry run's file can be imported this way; upload it again.")
    return start_import(
        organization=job.organization,
        user=user,
        file_name=job.file_name,
        data=bytes(job.data),
        dry_run=False,
        mode=job.mode,
        create_missing=job.create_missing,
        location=job.location,
        kind=job.kind,
    )
