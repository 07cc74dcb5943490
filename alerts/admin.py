from django.contrib import admin

from alerts.models import AlertLog, StockAlert
from core.admin import OrganizationAdminMixin, ReadOnlyAdminMixin


class ReadOnlyAdmin(ReadOnlyAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Written by the alerts' services only; an organization's staff read their own."""


@admin.register(AlertLog)
class AlertLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "organization",
        "kind",
        "subject",
        "low_stock_count",
        "expired_count",
        "sent_at",
    ]
    list_filter = ["kind", "created_at", "sent_at", "organization"]
    search_fields = ["organization__name", "subject", "recipients"]
    list_select_related = ["organization"]
    readonly_fields = [f.name for f in AlertLog._meta.fields]


@admin.register(StockAlert)
class StockAlertAdmin(ReadOnlyAdmin):
    list_display = ["product", "organization", "quantity", "opened_at", "notified_at", "closed_at"]
    list_filter = ["opened_at", "notified_at", "closed_at", "organization"]
    search_fields = ["product__sku", "product__name", "organization__name"]
    list_select_related = ["product", "organization"]
    readonly_fields = [f.name for f in StockAlert._meta.fields]
