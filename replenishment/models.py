from django.db import models
from django.db.models import F, Q


class ReorderRule(models.Model):
    """When a product runs low at a location, and how much to order: it is due when what is
    available there plus what is on order for there is at most `min_quantity`; the order
    brings it up to `max_quantity`, from `supplier` (API.md, Replenishment)."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="reorder_rules"
    )
    location = models.ForeignKey(
        "stock.Location", on_delete=models.CASCADE, related_name="reorder_rules"
    )
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reorder_rules",
    )
    min_quantity = models.PositiveIntegerField(help_text="The reorder point.")
    max_quantity = models.PositiveIntegerField(help_text="Order up to this.")
    snoozed_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "location"],
                name="replenishment_one_rule_per_product_and_location",
                violation_error_message="The product already has a rule at this location.",
            ),
            models.CheckConstraint(
                condition=Q(max_quantity__gt=F("min_quantity")),
                name="replenishment_max_above_min",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "location", "id"]),
            models.Index(fields=["organization", "product", "id"]),
            models.Index(fields=["organization", "supplier", "id"]),
        ]

    def __str__(self):
        return f"{self.product} at {self.location}: {self.min_quantity}–{self.max_quantity}"
