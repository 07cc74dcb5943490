from django.conf import settings
from django.db import models
from django.db.models import Q


class SalesOrder(models.Model):
    """A customer's order; reaching `fulfilled` takes every line out of stock, or none."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"

    # Allowed status moves (API.md): anything else is a 409.
    TRANSITIONS = {
        Status.PENDING: {Status.FULFILLED, Status.CANCELLED},
        Status.FULFILLED: set(),
        Status.CANCELLED: set(),
    }

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="sales_orders"
    )
    number = models.PositiveIntegerField()
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="sales_order_number_unique_per_org"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(
                fields=["organization", "fulfilled_at"],
                condition=Q(status="fulfilled"),
                name="sales_order_fulfilled",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return f"SO-{self.number:05d}"


class SalesOrderItem(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="sales_order_items"
    )
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_item_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_item_price_gte_0"),
        ]
        indexes = [models.Index(fields=["product", "order"])]

    def __str__(self):
        return f"{self.quantity} x {self.product_id}"
