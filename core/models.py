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
