"""Imports under real concurrency (threads, PostgreSQL): two imports of overlapping SKUs never
create a product twice (imports of one organization run one at a time: a transaction-level
advisory lock), and a job whose row a worker holds is never run by another."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from imports import jobs, services
from imports.models import ImportJob
from inventory.models import Product
from tests.factories import OrganizationFactory, UserFactory
from tests.imports.files import csv_bytes
from tests.support.concurrency import meet, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HEADER = ["sku", "name", "price", "quantity"]


def file_of(skus):
    return csv_bytes([[sku, f"Product {sku.upper()}", "1.00", "3"] for sku in skus], header=HEADER)


@pytest.mark.parametrize(
    ("rows", "overlap"),
    [(6, 3), (150, 50)],  # the second writes by COPY (more rows than core.bulk.COPY_AT_LEAST)
)
def test_concurrent_imports_of_overlapping_skus_never_create_a_product_twice(
    monkeypatch, rows, overlap
):
    organization = OrganizationFactory()
    user = UserFactory(organization=organization)
    # Both imports have checked their files before either writes (when nothing keeps them apart).
    meet(monkeypatch, (services.ProductImporter, "_lock_matched"), before=True)
    start = rows - overlap
    files = [
        file_of([f"S-{n}" for n in range(0, rows)]),
        file_of([f"s-{n}" for n in range(start, start + rows)]),
    ]

    finished = run_concurrently(
        [
            lambda data=data: jobs.start_import(
                organization=organization, user=user, file_name="p.csv", data=data, dry_run=False
            )
            for data in files
        ]
    )

    assert all(isinstance(job, ImportJob) for job in finished), finished
    assert [job.status for job in finished] == ["done", "done"], [job.errors for job in finished]
    distinct = start + rows
    assert sum(job.created for job in finished) == distinct
    assert sum(job.unchanged for job in finished) == overlap  # the second saw the first's products
    skus = [sku.lower() for sku in Product.objects.values_list("sku", flat=True)]
    assert sorted(skus) == sorted({f"s-{n}" for n in range(distinct)})
    assert (
        sum(Product.objects.values_list("quantity", flat=True)) == 3 * distinct
    )  # opening stock once


def test_a_job_whose_row_a_worker_holds_is_not_run_by_another():
    organization = OrganizationFactory()
    job = ImportJob.objects.create(
        organization=organization,
        file_name="p.csv",
        file_format="csv",
        data=file_of(["A", "B"]),
        dry_run=False,
        status=ImportJob.Status.RUNNING,
        total_rows=2,
        attempts=1,
        started_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    holding, release = threading.Event(), threading.Event()

    def worker():
        try:
            with transaction.atomic():
                ImportJob.objects.select_for_update().get(pk=job.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    first = threading.Thread(target=worker, daemon=True)
    first.start()
    assert holding.wait(timeout=30)
    try:
        outcome = run_concurrently([lambda: services.run_import(job_id=job.pk)], workers=1)
        assert outcome == [None]
        assert not Product.objects.exists()
        assert services.stuck_imports() == []  # nor queued again while held
    finally:
        release.set()
        first.join(timeout=30)
    assert services.run_import(job_id=job.pk).status == "done"
    assert Product.objects.count() == 2
