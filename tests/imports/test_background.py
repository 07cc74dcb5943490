"""Large imports run in the background (a Celery task, eager here) and show their progress; a
job a dead worker left behind is queued again by the sweep and runs once; one that keeps
stopping fails with nothing written."""

import datetime

import pytest
from django.utils import timezone

from imports import jobs, services, tasks
from imports.models import ImportJob
from inventory.models import Product
from tests.imports.files import csv_bytes, post_import

pytestmark = pytest.mark.django_db

HEADER = ["sku", "name", "price", "quantity"]


def rows(count, *, start=0):
    return [[f"S-{n}", f"Product {n}", "1.00", "2"] for n in range(start, start + count)]


def test_a_file_over_import_sync_rows_runs_in_the_background_and_shows_its_progress(
    manager_client, organization, settings, eager_celery, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.IMPORT_SYNC_ROWS = 3
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    seen = []
    advance = services.ProductImporter._advance

    def watched(importer, count):
        advance(importer, count)
        seen.append(manager_client.get(f"/api/imports/{importer.job.pk}/").json())

    monkeypatch.setattr(services.ProductImporter, "_advance", watched)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_import(manager_client, csv_bytes(rows(7), header=HEADER), dry_run=False)
        assert response.status_code == 202
        assert (response.json()["status"], response.json()["processed_rows"]) == ("queued", 0)
        assert not Product.objects.exists()

    assert {job["status"] for job in seen} == {"running"}
    progress = [job["processed_rows"] for job in seen]
    assert progress == sorted(progress) and 0 < progress[0] < 7 and len(set(progress)) > 2
    job = manager_client.get(f"/api/imports/{response.json()['id']}/").json()
    assert (job["status"], job["total_rows"], job["processed_rows"]) == ("done", 7, 7)
    assert Product.objects.filter(organization=organization).count() == 7


def stopped_job(organization, *, attempts, minutes_ago=5, status=ImportJob.Status.RUNNING):
    """A job as a worker killed mid-run leaves it: running, its writes rolled back."""
    started = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    job = ImportJob.objects.create(
        organization=organization,
        file_name="big.csv",
        file_format="csv",
        data=csv_bytes(rows(4), header=HEADER),
        dry_run=False,
        status=status,
        total_rows=4,
        attempts=attempts,
        started_at=started if status == ImportJob.Status.RUNNING else None,
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=started)
    return job


def test_the_sweep_queues_a_job_a_dead_worker_left_and_it_runs_once(organization, eager_celery):
    job = stopped_job(organization, attempts=1)
    waiting = stopped_job(organization, attempts=0, status=ImportJob.Status.QUEUED, minutes_ago=0)

    assert tasks.requeue_stuck_imports() == [job.pk]  # a job queued just now waits its turn
    job.refresh_from_db()
    assert (job.status, job.created, job.attempts, job.data) == ("done", 4, 2, None)
    assert Product.objects.filter(organization=organization).count() == 4
    assert tasks.requeue_stuck_imports() == []
    assert services.run_import(job_id=job.pk) is None  # finished: never run twice
    assert Product.objects.filter(organization=organization).count() == 4
    waiting.refresh_from_db()
    assert waiting.status == "queued"


def test_a_job_that_keeps_stopping_fails_with_nothing_written(organization, eager_celery):
    job = stopped_job(organization, attempts=services.MAX_ATTEMPTS)
    tasks.requeue_stuck_imports()
    job.refresh_from_db()
    assert job.status == "failed" and "stopped 3 times" in job.errors[0]["message"]
    assert not Product.objects.exists()


def test_a_checked_dry_runs_file_can_be_imported_for_real(manager_user, organization):
    dry = jobs.start_import(
        organization=organization,
        user=manager_user,
        file_name="p.csv",
        data=csv_bytes(rows(2), header=HEADER),
        create_missing=True,
    )
    assert dry.status == "checked" and dry.data is not None
    real = jobs.import_checked_file(job=dry, user=manager_user)
    assert (real.status, real.dry_run, real.created, real.data) == ("done", False, 2, None)
    assert Product.objects.filter(organization=organization).count() == 2
