from django.db import models


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
