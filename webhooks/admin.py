from django.contrib import admin

from core.admin import OrganizationAdminMixin, ReadOnlyAdminMixin
from webhooks.models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Subscriptions are made through the API (their secret is shown once, there); the admin
    lists them and their deliveries, read-only."""

    list_display = ["url", "organization", "is_active", "created_at"]
    list_filter = ["is_active", "organization"]
    search_fields = ["url", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ["organization", "url", "events", "is_active", "created_at", "updated_at"]
    fields = readonly_fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at", "webhook", "event", "status", "attempts", "response_status",
        "next_attempt_at",
    ]  # fmt: skip
    list_filter = ["status", "created_at", "organization"]
    search_fields = ["webhook__url", "event__type"]
    list_select_related = ["webhook", "event", "organization"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    show_full_result_count = False
