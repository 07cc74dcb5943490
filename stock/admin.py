from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from stock.models import StockMovement


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The ledger is read-only in the admin too: no add, change or delete (nor bulk delete)."""

    list_display = [
        "id",
        "created_at",
        "organization",
        "product",
        "movement_type",
        "quantity",
        "delta",
        "balance_after",
        "source",
        "reference",
        "performed_by",
    ]
    list_filter = ["movement_type", "source", "created_at", "organization"]
    list_select_related = ["organization", "product", "performed_by"]
    search_fields = ["product__sku", "product__name", "reference", "note"]
    date_hierarchy = "created_at"
    show_full_result_count = False
