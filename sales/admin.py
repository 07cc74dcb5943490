from django.contrib import admin

from sales.models import SalesOrder, SalesOrderItem


class SalesOrderItemInline(admin.TabularInline):
    model = SalesOrderItem
    extra = 0
    raw_id_fields = ["product"]

    def _editable(self, obj):
        return obj is not None and obj.status == SalesOrder.Status.PENDING

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(SalesOrder)
class SalesOrderAdmin(admin.ModelAdmin):
    """Orders with their lines. Status moves go through the API, which keeps stock right."""

    list_display = ["reference", "organization", "customer_name", "status", "created_at"]
    list_filter = ["status", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["number", "customer_name", "customer_email"]
    date_hierarchy = "created_at"
    raw_id_fields = ["organization", "created_by"]
    readonly_fields = ["number", "status", "fulfilled_at", "created_at", "updated_at"]
    inlines = [SalesOrderItemInline]

    def has_add_permission(self, request):
        return False  # orders are numbered and created through the API

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.status == SalesOrder.Status.PENDING
        return editable and super().has_delete_permission(request, obj)

    @admin.display(ordering="number")
    def reference(self, obj):
        return obj.reference
