from django.db import models
from django.db.models import Q
from django.utils import timezone


class StockAlert(models.Model):
    """One crossing: a product went low (from above its threshold to at or below it).

    Made from the outbox (`core.events`: `stock.low`), one per crossing, and closed when
    the product recovers. `log` is the email that notifies it: every crossing is owed exactly
    one, even when it recovered before a worker got to it.
    """

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="stock_alerts"
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.CASCADE, related_name="stock_alerts"
    )
    quantity = models.IntegerField(help_text="Quantity on hand when the product went low.")
    low_stock_threshold = models.IntegerField(help_text="Threshold when the product went low.")
    opened_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    log = models.ForeignKey(
        "AlertLog", on_delete=models.SET_NULL, null=True, blank=True, related_name="crossings"
    )

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
                condition=Q(notified_at__isnull=True),
                name="alerts_stockalert_unnotified",
            ),
            models.Index(fields=["organization", "-opened_at", "-id"]),
        ]

    def __str__(self):
        state = "open" if self.closed_at is None else "closed"
        return f"{self.product_id} low ({state})"


class AlertLog(models.Model):
    """One alert email: written (with its recipients and text) before it is sent, marked sent
    once the mail server took it. A send that fails, or a worker that dies while sending, leaves
    it unsent: the periodic sweep sends it again later, so only that one email can repeat."""

    class Kind(models.TextChoices):
        DIGEST = "digest", "Daily digest"
        CROSSING = "crossing", "Low-stock crossing"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="alert_logs"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    low_stock_count = models.PositiveIntegerField(default=0)
    expired_count = models.PositiveIntegerField(default=0)
    # The local day (in its time zone) a digest covers: one per organization and day, unless forced.
    digest_date = models.DateField(null=True, blank=True)
    forced = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Not before: a claimed send holds it for a while, a failed one backs off.
    next_attempt_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "digest_date"],
                condition=Q(kind="digest", forced=False),
                name="alerts_one_digest_per_organization_and_day",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True),
                name="alerts_alertlog_unsent",
            ),
        ]

    def __str__(self):
        return f"{self.kind} to {len(self.recipients)} recipient(s)"
