from django.contrib import admin

from purchases.models import PurchaseOrder, PurchaseOrderItem


class PurchaseOrderItemInline(admin.TabularInline):
    model = PurchaseOrderItem
    extra = 0
    raw_id_fields = ["product"]

    def _editable(self, obj):
        return obj is not None and obj.status == PurchaseOrder.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    """Orders with their lines. Status moves go through the API, which keeps stock right."""

    list_display = [
        "reference",
        "organization",
        "supplier",
        "status",
        "expected_date",
        "created_at",
    ]
    list_filter = ["status", "organization", "created_at"]
    list_select_related = ["organization", "supplier"]
    search_fields = ["number", "supplier__name", "notes"]
    date_hierarchy = "created_at"
    raw_id_fields = ["organization", "supplier", "created_by"]
    readonly_fields = ["number", "status", "received_at", "created_at", "updated_at"]
    inlines = [PurchaseOrderItemInline]

    def has_add_permission(self, request):
        return False  # orders are numbered and created through the API

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.status == PurchaseOrder.Status.DRAFT
        return editable and super().has_delete_permission(request, obj)

    @admin.display(ordering="number")
    def reference(self, obj):
        return obj.reference
