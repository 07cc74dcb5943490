from django.db import models
from django.db.models import Q
from django.utils import timezone

# The events a webhook may subscribe to (API.md, Webhooks); `ping` is sent on request only.
EVENT_TYPES = (
    "product.created",
    "product.updated",
    "product.archived",
    "stock.low",
    "stock.recovered",
    "stock.changed",
    "sales_order.confirmed",
    "sales_order.fulfilled",
    "sales_order.cancelled",
    "purchase_order.received",
    "stocktake.completed",
    "import.done",
)
PING = "ping"


class Webhook(models.Model):
    """A subscription: the organization's events of `events` are POSTed to `url`, signed with
    its secret. The secret is kept encrypted (Fernet, with a key derived from SECRET_KEY:
    `webhooks.secrets`), since signing needs it; the API shows it once."""

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    encrypted_secret = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at", "-id"])]

    def __str__(self):
        return self.url


class Delivery(models.Model):
    """One event owed to one webhook: tried at once after commit, then again with growing
    delays for 24 hours (at most `MAX_ATTEMPTS`), then `failed`. A try claims the row until
    `next_attempt_at` (a lease), so two workers never send it at once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(
        "users.Organization", on_delete=models.CASCADE, related_name="+"
    )
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("core.Event", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # Retries stop after this (24 hours after the delivery was made or redelivered).
    give_up_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="webhooks_one_delivery"),
        ]
        indexes = [
            models.Index(fields=["webhook", "-created_at", "-id"]),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhooks_delivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.event_id} to {self.webhook_id} ({self.status})"
