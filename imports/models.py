from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    """One spreadsheet import (API.md, Imports): the file as uploaded, what was asked, and
    what came of it. The file's bytes stay in the database until the job has finished (a
    background job survives a worker restart; any worker can run it), and a checked dry run
    keeps them for the real run the admin offers next."""

    class Kind(models.TextChoices):
        PRODUCTS = "products", "Products"

    class Mode(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        UPSERT = "upsert", "Create or update"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        CHECKED = "checked", "Checked"  # a dry run without errors
        FAILED = "failed", "Failed"  # errors: nothing written
        DONE = "done", "Done"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="imports"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PRODUCTS)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)  # csv or xlsx
    data = models.BinaryField(null=True, editable=False)
    dry_run = models.BooleanField(default=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.UPSERT)
    create_missing = models.BooleanField(default=False)
    location = models.ForeignKey(
        "stock.Location", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.IntegerField(default=0)
    processed_rows = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    attempts = models.IntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(
                fields=["status", "created_at"],
                condition=models.Q(status__in=["queued", "running"]),
                name="imports_job_unfinished",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    processed_rows__gte=0, processed_rows__lte=models.F("total_rows")
                ),
                name="imports_job_processed_within_total",
            ),
        ]

    def __str__(self):
        return f"Import {self.pk} ({self.file_name})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.CHECKED, self.Status.FAILED, self.Status.DONE)
