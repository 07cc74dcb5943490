from django.contrib import admin
from django.utils.html import format_html_join

from core.admin import (
    CostFiguresMixin,
    OrganizationAdminMixin,
    OrganizationInlineMixin,
    ReadOnlyAdminMixin,
)
from core.currencies import with_currency
from orders.admin import OrderAdminMixin, OrderLineInlineMixin
from sales import services
from sales.models import CustomerReturn, Reservation, SalesOrder, SalesOrderItem
from sales.selectors import sales_orders_with_totals


class SalesOrderItemInline(
    CostFiguresMixin, OrderLineInlineMixin, OrganizationInlineMixin, admin.TabularInline
):
    """The lines, editable while the order is pending (as in the API). Their unit cost and
    cost of goods sold are what fulfilment recorded (empty until then), never an input; shown
    to who may see costs."""

    model = SalesOrderItem
    rules = services.RULES
    fields = ["product", "quantity", "unit_price", "unit_cost", "line_cost", "returned_quantity"]
    readonly_fields = ["unit_cost", "line_cost", "returned_quantity"]
    cost_fields = ("unit_cost", "line_cost")


class CustomerReturnInline(ReadOnlyAdminMixin, admin.TabularInline):
    """What customers brought back (recorded through the API, which moves the stock)."""

    model = CustomerReturn
    fields = ["reference", "created_at", "restock", "location", "returned_lines", "note"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="lines")
    def returned_lines(self, returned):
        return "; ".join(str(line) for line in returned.lines.all())  # SKU name × quantity

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("location")
            .prefetch_related("lines__item__product")
        )


@admin.register(SalesOrder)
class SalesOrderAdmin(CostFiguresMixin, OrderAdminMixin, OrganizationAdminMixin, admin.ModelAdmin):
    """Orders with their lines, edited through `update_sales_order` as its status allows
    (customer, location and lines while pending). Status moves go through the API, which keeps
    stock right. An order's page shows its total and, once
    fulfilled, its cost of goods sold and gross margin (`sales_orders_with_totals`, as the
    API), to who may see costs."""

    list_display = ["reference", "organization", "customer_name", "status", "total", "created_at"]
    list_filter = ["status", "organization", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["number", "customer_name", "customer_email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        *OrderAdminMixin.readonly_fields,
        "total_cost",
        "gross_margin",
        "confirmed_at",
        "fulfilled_at",
        "reservations",
    ]
    inlines = [SalesOrderItemInline, CustomerReturnInline]
    cost_fields = ("total_cost", "gross_margin")
    rules = services.RULES
    update_service = staticmethod(services.update_sales_order)
    service_fields = ("customer_name", "customer_email", "location")

    def _costs(self, order) -> tuple:
        """The order's cost of goods sold and gross margin as the API gives them (None until
        it is fulfilled): one query per page."""
        if not hasattr(order, "_costs"):
            order._costs = (
                sales_orders_with_totals()
                .filter(pk=order.pk)
                .values_list("total_cost", "gross_margin")
                .first()
            ) or (None, None)
        return order._costs

    @admin.display(description="cost of goods sold")
    def total_cost(self, order):
        return with_currency(self._costs(order)[0], order.organization.currency)

    @admin.display(description="gross margin")
    def gross_margin(self, order):
        return with_currency(self._costs(order)[1], order.organization.currency)

    @admin.display(description="reserved stock")
    def reservations(self, order):
        """What a confirmed order holds: product, location, lot and units per reservation."""
        rows = (
            Reservation.objects.filter(item__order=order)
            .select_related("item__product", "level__location", "level__lot")
            .order_by("item_id", "id")
        )
        return format_html_join(
            "\n",
            "<div>{} at {}{}: {}</div>",
            (
                (r.item.product.sku, r.level.location.name,
                 f" (lot {r.level.lot.code})" if r.level.lot else "", r.quantity)
                for r in rows
            ),
        ) or "-"  # fmt: skip
