from rest_framework import serializers

from core.fields import money_input, money_output
from core.serializers import CostFieldsMixin
from core.tenancy import OrganizationPrimaryKeyRelatedField
from orders.serializers import (
    DocumentLineSerializer,
    DocumentSerializer,
    OrderLineSerializer,
    OrderSerializer,
)
from purchases.models import (
    PurchaseOrder,
    PurchaseOrderItem,
    Receipt,
    ReceiptLine,
    SupplierReturn,
    SupplierReturnLine,
)
from suppliers.models import Supplier


class PurchaseOrderItemSerializer(OrderLineSerializer):
    unit_cost = money_input(
        required=False,
        allow_null=True,
        help_text="Default: the product's cost_price (a 400 when it has none).",
    )

    class Meta(OrderLineSerializer.Meta):
        model = PurchaseOrderItem

    def get_field_names(self, declared_fields, info):
        return [
            *super().get_field_names(declared_fields, info),
            "received_quantity",
            "returned_quantity",
        ]

    def get_extra_kwargs(self):
        return {
            **super().get_extra_kwargs(),
            "received_quantity": {"read_only": True},
            "returned_quantity": {"read_only": True},
        }


class PurchaseOrderSerializer(OrderSerializer):
    line_serializer = PurchaseOrderItemSerializer
    total_field = "total_cost"

    supplier = OrganizationPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "reference",
            "supplier",
            "location",
            "status",
            "expected_date",
            "notes",
            "items",
            "total_cost",
            "created_by",
            "created_at",
            "received_at",
        ]
        read_only_fields = ["id", "created_at", "received_at"]


class ReceiptLineSerializer(DocumentLineSerializer):
    sku = serializers.CharField(source="item.product.sku", read_only=True)
    lot_code = serializers.CharField(required=False, allow_blank=True, max_length=64)
    expiration_date = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = ReceiptLine
        fields = ["item", "product", "sku", "quantity", "lot_code", "expiration_date"]


class ReceiptSerializer(DocumentSerializer):
    """Goods that arrived for a purchase order; on input location, note and lines."""

    lines = ReceiptLineSerializer(many=True, allow_empty=False)

    class Meta:
        model = Receipt
        fields = [
            "id",
            "purchase_order",
            "location",
            "note",
            "lines",
            "movements",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "purchase_order", "created_at"]


class SupplierReturnLineSerializer(CostFieldsMixin, DocumentLineSerializer):
    cost_fields = ("unit_cost", "line_total")

    sku = serializers.CharField(source="item.product.sku", read_only=True)
    lot_code = serializers.CharField(required=False, allow_blank=True, max_length=64)
    unit_cost = money_output(
        source="item.unit_cost", allow_null=True, help_text="The purchase order line's unit cost."
    )
    line_total = money_output(allow_null=True, help_text="quantity * unit_cost")

    class Meta:
        model = SupplierReturnLine
        fields = ["item", "product", "sku", "quantity", "lot_code", "unit_cost", "line_total"]


class SupplierReturnSerializer(CostFieldsMixin, DocumentSerializer):
    """Goods sent back to the supplier; on input location, note and lines. `total_cost` (the
    lines' totals at the purchase order's unit costs) is what to claim back from the
    supplier."""

    cost_fields = ("total_cost",)

    reference = serializers.CharField(read_only=True)
    lines = SupplierReturnLineSerializer(many=True, allow_empty=False)
    total_cost = money_output(
        allow_null=True, help_text="The lines' totals: what to claim back from the supplier."
    )

    class Meta:
        model = SupplierReturn
        fields = [
            "id",
            "reference",
            "purchase_order",
            "location",
            "note",
            "lines",
            "total_cost",
            "movements",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "purchase_order", "created_at"]
