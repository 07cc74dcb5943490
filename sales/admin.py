from django.contrib import admin, messages
from django.db import transaction

from config.admin import OrganizationAdminMixin, OrganizationInlineMixin
from config.errors import Conflict
from sales import services
from sales.models import SalesOrder, SalesOrderItem
from stock.admin import StockLineFormSet

PENDING = SalesOrder.Status.PENDING


def _in_transaction() -> bool:
    return transaction.get_connection().in_atomic_block  # the admin's change and delete views


class SalesOrderItemInline(OrganizationInlineMixin, admin.TabularInline):
    """The lines, editable while the order is pending (as in the API)."""

    model = SalesOrderItem
    formset = StockLineFormSet
    extra = 0
    raw_id_fields = ["product"]

    def _editable(self, obj):
        return obj is not None and obj.status == PENDING

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.action(
    description="Delete selected pending orders (others are kept)", permissions=["delete"]
)
def delete_pending(modeladmin, request, queryset):
    deleted = 0
    for order in queryset.filter(status=PENDING).order_by("pk"):
        with transaction.atomic():
            try:
                services.delete_sales_order(order=order)
            except Conflict:  # fulfilled or cancelled meanwhile
                continue
            modeladmin.log_deletions(request, [order])
        deleted += 1
    kept = queryset.count()
    modeladmin.message_user(
        request, f"{deleted} pending order(s) deleted, {kept} other(s) kept.", messages.SUCCESS
    )


@admin.register(SalesOrder)
class SalesOrderAdmin(OrganizationAdminMixin, admin.ModelAdmin):
    """Orders with their lines. Status moves go through the API, which keeps stock right;
    customer and lines change only while pending."""

    list_display = ["reference", "organization", "customer_name", "status", "created_at"]
    list_filter = ["status", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["number", "customer_name", "customer_email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "organization",
        "number",
        "status",
        "created_by",
        "fulfilled_at",
        "created_at",
        "updated_at",
    ]
    inlines = [SalesOrderItemInline]
    actions = [delete_pending]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.status != PENDING:
            fields = [*fields, "customer_name", "customer_email"]
        return fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete fulfilled orders too
        return actions

    def get_object(self, request, object_id, from_field=None):
        """A saved or deleted order is locked first, as the API's status moves lock it: the
        order cannot be fulfilled between the admin's checks and its writes."""
        order = super().get_object(request, object_id, from_field)
        if order is not None and request.method == "POST" and _in_transaction():
            order = services.lock_sales_order(order.pk)
        return order

    def has_add_permission(self, request):
        return False  # orders are numbered and created through the API

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or obj.status == PENDING
        return editable and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.delete_sales_order(order=obj)

    @admin.display(ordering="number")
    def reference(self, obj):
        return obj.reference
