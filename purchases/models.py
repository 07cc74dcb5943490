from django.conf import settings
from django.db import models
from django.db.models import Q


class PurchaseOrder(models.Model):
    """An order to a supplier; reaching `received` adds its lines to stock once."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    # Allowed status moves (API.md): anything else is a 409.
    TRANSITIONS = {
        Status.DRAFT: {Status.SUBMITTED, Status.RECEIVED, Status.CANCELLED},
        Status.SUBMITTED: {Status.RECEIVED, Status.CANCELLED},
        Status.RECEIVED: set(),
        Status.CANCELLED: set(),
    }

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="purchase_orders"
    )
    number = models.PositiveIntegerField()
    supplier = models.ForeignKey(
        "suppliers.Supplier", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    expected_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "number"], name="purchases_order_number_unique_per_org"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(fields=["organization", "status", "-created_at"]),
            models.Index(fields=["organization", "supplier"]),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return f"PO-{self.number:05d}"


class PurchaseOrderItem(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, related_name="purchase_order_items"
    )
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchases_item_quantity_gt_0"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="purchases_item_cost_gte_0"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_id}"
