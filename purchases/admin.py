from django.contrib import admin

from core.admin import OrganizationAdminMixin, OrganizationInlineMixin
from orders.admin import OrderAdminMixin, OrderLineInlineMixin
from purchases.models import PurchaseOrder, PurchaseOrderItem

DRAFT = PurchaseOrder.Status.DRAFT
CLOSED = (PurchaseOrder.Status.RECEIVED, PurchaseOrder.Status.CANCELLED)


class PurchaseOrderItemInline(OrderLineInlineMixin, OrganizationInlineMixin, admin.TabularInline):
    """The lines, editable while the order is a draft (as in the API)."""

    model = PurchaseOrderItem


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(OrderAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Orders with their lines. Status moves go through the API, which keeps stock right;
    supplier and lines change only while draft, notes and date until received or cancelled."""

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
    raw_id_fields = ["supplier"]
    readonly_fields = [*OrderAdminMixin.readonly_fields, "received_at"]
    inlines = [PurchaseOrderItemInline]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status != DRAFT:
            fields = [*fields, "supplier"]
        if obj is not None and obj.status in CLOSED:
            fields = [*fields, "expected_date", "notes"]
        return fields
