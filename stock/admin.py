from django.contrib import admin

from core.admin import OrganizationInlineFormSet
from core.errors import DomainError
from stock.models import StockMovement
from stock.services import ensure_stock_keeping


class StockLineFormSet(OrganizationInlineFormSet):
    """Order lines: a product of the order's organization that keeps stock (live, no
    variations), as the API requires; receiving or fulfilling the order moves its stock."""

    def clean_line(self, form) -> None:
        product = form.cleaned_data.get("product")
        if product is None:
            return
        try:
            ensure_stock_keeping(product=product)
        except DomainError as error:
            form.add_error("product", str(error.message))


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
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
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
