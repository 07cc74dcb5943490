from django.contrib import admin

from core.admin import OrganizationAdminMixin, OrganizationInlineMixin, ReadOnlyAdminMixin
from orders.admin import OrderAdminMixin, OrderLineInlineMixin
from purchases import services
from purchases.models import PurchaseOrder, PurchaseOrderItem, Receipt, SupplierReturn


class PurchaseOrderItemInline(OrderLineInlineMixin, OrganizationInlineMixin, admin.TabularInline):
    """The lines, editable while the order is a draft (as in the API); what arrived of each
    is the receipts' business."""

    model = PurchaseOrderItem
    rules = services.RULES
    readonly_fields = ["received_quantity", "returned_quantity"]


def _lines(document) -> str:
    """`SKU name × quantity` per line, as order lines read."""
    return "; ".join(
        str(line) + (f" (lot {line.lot_code})" if line.lot_code else "")
        for line in document.lines.all()
    )


class ReceiptInline(ReadOnlyAdminMixin, admin.TabularInline):
    """What arrived, receipt by receipt (recorded through the API, which moves the stock)."""

    model = Receipt
    fields = ["created_at", "location", "received_lines", "note", "created_by"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="lines")
    def received_lines(self, receipt):
        return _lines(receipt)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("location", "created_by")
            .prefetch_related("lines__item__product")
        )


class SupplierReturnInline(ReceiptInline):
    """What went back to the supplier (recorded through the API, which moves the stock)."""

    model = SupplierReturn
    fields = ["reference", "created_at", "location", "received_lines", "note", "created_by"]
    readonly_fields = fields
    verbose_name = "return to the supplier"


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(OrderAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Orders with their lines, edited through `update_purchase_order` as its status allows
    (supplier, location and lines while draft, notes and date until received, closed or
    cancelled). Status moves go through the API, which keeps stock right."""

    list_display = [
        "reference",
        "organization",
        "supplier",
        "status",
        "total",
        "expected_date",
        "created_at",
    ]
    list_filter = ["status", "organization", "created_at"]
    list_select_related = ["organization", "supplier"]
    search_fields = ["number", "supplier__name", "notes"]
    date_hierarchy = "created_at"
    raw_id_fields = ["supplier"]
    readonly_fields = [*OrderAdminMixin.readonly_fields, "received_at"]
    inlines = [PurchaseOrderItemInline, ReceiptInline, SupplierReturnInline]
    rules = services.RULES
    update_service = staticmethod(services.update_purchase_order)
    service_fields = ("supplier", "location", "expected_date", "notes")
