"""Abstract orders: a numbered document of an organization with a status table and lines.

Each concrete order says, as class attributes, its statuses (`Status`), the moves between them
(`TRANSITIONS`, checked under the order's row lock), the status in which it is still open
(`OPEN_STATUS`: lines editable, deletable), the statuses that may be sent again without effect
(`RESENDABLE`), its reference prefix and its noun; each line says which field is its price.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core import numbering


class Order(models.Model):
    Status: type[models.TextChoices]
    TRANSITIONS: dict[str, set[str]]
    OPEN_STATUS: str
    RESENDABLE: tuple[str, ...]
    REFERENCE_PREFIX: str
    NOUN: str

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    number = models.PositiveIntegerField()
    # Where the goods arrive or leave from (default: the organization's default location).
    location = models.ForeignKey("stock.Location", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="%(app_label)s_order_number_unique_per_org"
            ),
        ]
        indexes = [
            # The list: newest first, and by status.
            models.Index(fields=["organization", "-created_at", "-id"], name="%(class)s_recent"),
            models.Index(fields=["organization", "status", "-created_at"], name="%(class)s_status"),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return numbering.reference(self.REFERENCE_PREFIX, self.number)


class OrderLine(models.Model):
    """A line: a product and a quantity (> 0), and a price in the field `PRICE_FIELD`."""

    PRICE_FIELD: str

    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        abstract = True
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="%(app_label)s_item_quantity_gt_0"
            ),
        ]

    def __str__(self):
        return f"{self.product} × {self.quantity}"


class OrderDocument(models.Model):
    """What is recorded against an order as it moves stock (a receipt, a return): where, by
    whom, when, with a note and the movements it made."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    location = models.ForeignKey("stock.Location", on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    movements = models.ManyToManyField("stock.StockMovement", related_name="+", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class NumberedDocument(OrderDocument):
    """A document with its own gapless reference per organization (`REFERENCE_PREFIX`-00001)."""

    REFERENCE_PREFIX: str

    number = models.PositiveIntegerField()

    class Meta:
        abstract = True

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return numbering.reference(self.REFERENCE_PREFIX, self.number)
