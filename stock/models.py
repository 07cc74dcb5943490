from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class StockMovementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The stock ledger is append-only: movements cannot be updated.")

    def delete(self):
        raise TypeError("The stock ledger is append-only: movements cannot be deleted.")


class StockMovement(models.Model):
    """One line of the append-only stock ledger: sum(delta) == Product.quantity, always."""

    class MovementType(models.TextChoices):
        IN = "IN", "In"
        OUT = "OUT", "Out"
        ADJUST = "ADJUST", "Adjust"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        PURCHASE_ORDER = "purchase_order", "Purchase order"
        SALES_ORDER = "sales_order", "Sales order"
        PRODUCT_EDIT = "product_edit", "Product edit"
        INITIAL = "initial", "Initial stock"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="stock_movements"
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="movements"
    )
    movement_type = models.CharField(max_length=6, choices=MovementType.choices)
    quantity = models.IntegerField()
    delta = models.IntegerField()
    balance_after = models.IntegerField()
    note = models.TextField(blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    reference = models.CharField(max_length=50, null=True, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stock_movements",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StockMovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="stock_movement_quantity_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="stock_movement_balance_gte_0"
            ),
            models.CheckConstraint(
                condition=~Q(movement_type__in=["IN", "OUT"]) | Q(quantity__gt=0),
                name="stock_movement_in_out_quantity_gt_0",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(fields=["organization", "product", "-created_at", "-id"]),
            models.Index(fields=["organization", "source", "-created_at", "-id"]),
            models.Index(fields=["organization", "movement_type", "-created_at", "-id"]),
        ]

    def __str__(self):
        return f"{self.movement_type} {self.delta:+d} {self.product_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("The stock ledger is append-only: movements cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The stock ledger is append-only: movements cannot be deleted.")


class LowStockEvent(models.Model):
    """The alerts' outbox (DESIGN rule 8): a product's low-stock state changed.

    `stock.services` writes one row in the transaction that made the product go low or
    recover (a movement, a threshold edit, variations added or removed, archiving), under the
    product's lock, so a product's rows are in commit order. The alerts app turns them into
    notifications after commit (a task, and a periodic sweep) and deletes them: a broker or
    worker outage delays a notification, never loses or doubles it. `stock` knows nothing of
    alerts.
    """

    class Kind(models.TextChoices):
        WENT_LOW = "went_low", "Went low"
        RECOVERED = "recovered", "Recovered"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    quantity = models.IntegerField(help_text="On hand right after the change.")
    low_stock_threshold = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.product_id} {self.kind}"
