import uuid

from django.db import models
from django.utils import timezone


class Counter(models.Model):
    """The last number an organization gave to one kind of document (`PO`, `SO`, `TR`, ...).

    Numbering locks this row until the creating transaction ends, so numbers have neither gaps
    nor collisions (a rollback gives its number back) and creating documents queues only behind
    documents of the same kind, never behind the organization's row. The organization is an id
    (core knows no app's models).
    """

    organization_id = models.BigIntegerField()
    kind = models.CharField(max_length=20)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "kind"], name="core_counter_unique_per_org_and_kind"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.last_number} (organization {self.organization_id})"


class MissedInvalidation(models.Model):
    """A change that the shared cache (Redis) could not be told about: moving its version on
    failed because Redis was unreachable from the process that made it.

    Written in the change's own transaction (or just after its commit, when Redis failed only
    then), so it is as durable as the change. Every process counts these (the sum of `weight`:
    `core.cache.database_epoch`) before it trusts a value cached in Redis, so that no value
    cached before such a change is used on any node once Redis answers again, whatever data it
    kept (a restart from its own files, or a partition that only some nodes saw). Rows are
    folded into one from time to time; the sum of their weights never goes down.
    """

    weight = models.PositiveIntegerField(default=1)
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.weight} missed at {self.recorded_at:%Y-%m-%d %H:%M:%S}"


class Event(models.Model):
    """The outbox (DESIGN rules 8 and 11): something a subscriber may care about happened.

    A service writes its events in the transaction that made the change (`core.events.emit`),
    so an event exists if and only if its change committed. Consumers (the alerts, the
    webhooks) read it after commit, each from its own `EventCursor`. `txid` is the writing
    transaction's id on PostgreSQL (0 elsewhere): consumers read in (`txid`, `id`) order up to
    the oldest transaction still running, so one committed late is never skipped.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization_id = models.BigIntegerField()
    type = models.CharField(max_length=50)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    txid = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["txid", "id"], name="core_event_read_order"),
            models.Index(fields=["organization_id", "-id"], name="core_event_by_organization"),
        ]

    def __str__(self):
        return f"{self.type} {self.uuid}"


class EventCursor(models.Model):
    """How far one consumer of the outbox got: the (`txid`, `event_id`) of the last event it
    applied (events are read in that order)."""

    consumer = models.CharField(max_length=50, unique=True)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.consumer} at {self.txid}/{self.event_id}"


class AuditEntry(models.Model):
    """Who changed what (DESIGN rule 11, API.md Audit trail): written by the service that made
    the change, in its transaction, with each field's old and new value. Append-only: nothing
    updates or deletes a row (the admin shows them read-only). Ids, not foreign keys: core
    knows no app, and the trail outlives what it describes."""

    ORGANIZATION_LOOKUP = "organization_id"  # core.admin scopes the admin's rows by it

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        ARCHIVE = "archive", "Archive"
        RESTORE = "restore", "Restore"

    organization_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.BigIntegerField()
    object_repr = models.CharField(max_length=255, blank=True, default="")
    changes = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "audit entries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization_id", "-created_at", "-id"], name="core_audit_newest"
            ),
            models.Index(
                fields=["organization_id", "object_type", "object_id"], name="core_audit_object"
            ),
        ]

    def __str__(self):
        return f"{self.action} {self.object_type} {self.object_id}"
