from django.conf import settings
from django.db import models
from django.db.models import Q

from core import numbering
from core.fields import money_field


class Stocktake(models.Model):
    """Counting what is on the shelves at one location (API.md, Stocktakes): open, then
    completed (the counted differences posted through stock.services) or cancelled. One open
    stocktake per location (a partial unique constraint)."""

    REFERENCE_PREFIX = "ST"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="stocktakes"
    )
    number = models.PositiveIntegerField()
    location = models.ForeignKey(
        "stock.Location", on_delete=models.PROTECT, related_name="stocktakes"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # A blind count: the `sales` role sees no expected quantities nor differences until it is
    # completed.
    blind = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # What completion posted: the sum of the differences and their value at average cost.
    variance_quantity = models.IntegerField(null=True, blank=True)
    variance_value = money_field(total=True, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_expected", "Can see a blind stocktake's expected quantities"),
            ("count_stocktake", "Can count the lines of a stocktake"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="stocktakes_number_unique_per_org"
            ),
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(status="open"),
                name="stocktakes_one_open_per_location",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "completed", "cancelled"]),
                name="stocktakes_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(fields=["organization", "status", "-created_at", "-id"]),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return numbering.reference(self.REFERENCE_PREFIX, self.number)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED


class StocktakeLine(models.Model):
    """A product (and lot) to count at the stocktake's location. `expected_quantity` is the
    books' quantity there when it was counted (null until counted: the books' quantity now)."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    stocktake = models.ForeignKey(Stocktake, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("inventory.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(
        "stock.Lot", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expected_quantity = models.IntegerField(null=True, blank=True)
    counted_quantity = models.IntegerField(null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["stocktake", "product"],
                condition=Q(lot__isnull=True),
                name="stocktakes_line_unique_without_lot",
            ),
            models.UniqueConstraint(
                fields=["stocktake", "product", "lot"],
                condition=Q(lot__isnull=False),
                name="stocktakes_line_unique_per_lot",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="stocktakes_line_counted_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(expected_quantity__isnull=True) | Q(expected_quantity__gte=0),
                name="stocktakes_line_expected_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True)
                | Q(expected_quantity__isnull=False, counted_at__isnull=False),
                name="stocktakes_line_counted_with_expected",
            ),
        ]
        indexes = [
            models.Index(fields=["stocktake", "counted_at", "id"]),
            models.Index(fields=["stocktake", "product"]),
        ]

    def __str__(self):
        return f"{self.stocktake_id}/{self.product_id}/{self.lot_id}"

    @property
    def difference(self) -> int | None:
        if self.counted_quantity is None:
            return None
        return self.counted_quantity - self.expected_quantity
