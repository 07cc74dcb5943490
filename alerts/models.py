from django.db import models
from django.db.models import Q


class StockAlert(models.Model):
    """A product's low-stock state: open while it is low, closed once it recovers.

    At most one open alert per product (a partial unique constraint), so a crossing is
    notified once however many workers see it; `notified_at` stays empty until the email for
    the crossing has been sent, so a failed send is retried, never lost.
    """

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="stock_alerts"
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="stock_alerts"
    )
    quantity = models.IntegerField(help_text="Quantity on hand when the alert opened.")
    low_stock_threshold = models.IntegerField(help_text="Threshold when the alert opened.")
    opened_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(closed_at__isnull=True),
                name="alerts_one_open_stock_alert_per_product",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "id"],
                condition=Q(closed_at__isnull=True, notified_at__isnull=True),
                name="alerts_stockalert_to_notify",
            ),
            models.Index(fields=["organization", "-opened_at", "-id"]),
        ]

    def __str__(self):
        state = "open" if self.closed_at is None else "closed"
        return f"{self.product_id} low ({state})"


class AlertLog(models.Model):
    """One alert email that was sent: the daily digest or an immediate low-stock crossing."""

    class Kind(models.TextChoices):
        DAILY_DIGEST = "daily_digest", "Daily digest"
        LOW_STOCK = "low_stock", "Low-stock crossing"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="alert_logs"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    low_stock_count = models.PositiveIntegerField(default=0)
    expired_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at", "-id"])]

    def __str__(self):
        return f"{self.kind} to {len(self.recipients)} recipient(s)"
