from django.contrib import admin

from core.admin import OrganizationAdminMixin, OrganizationInlineMixin
from orders.admin import OrderAdminMixin, OrderLineInlineMixin
from sales.models import SalesOrder, SalesOrderItem

PENDING = SalesOrder.Status.PENDING


class SalesOrderItemInline(OrderLineInlineMixin, OrganizationInlineMixin, admin.TabularInline):
    """The lines, editable while the order is pending (as in the API)."""

    model = SalesOrderItem


@admin.register(SalesOrder)
class SalesOrderAdmin(OrderAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Orders with their lines. Status moves go through the API, which keeps stock right;
    customer and lines change only while pending."""

    list_display = ["reference", "organization", "customer_name", "status", "created_at"]
    list_filter = ["status", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["number", "customer_name", "customer_email"]
    date_hierarchy = "created_at"
    readonly_fields = [*OrderAdminMixin.readonly_fields, "fulfilled_at"]
    inlines = [SalesOrderItemInline]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status != PENDING:
            fields = [*fields, "customer_name", "customer_email"]
        return fields
