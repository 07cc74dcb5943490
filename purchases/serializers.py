from rest_framework import serializers

from core.fields import money_input, money_output
from core.tenancy import OrganizationPrimaryKeyRelatedField
from orders.serializers import OrderLineSerializer, OrderSerializer
from purchases.models import PurchaseOrder, PurchaseOrderItem
from suppliers.models import Supplier


class PurchaseOrderItemSerializer(OrderLineSerializer):
    required_on_write = ("product", "quantity", "unit_cost")

    unit_cost = money_input()

    class Meta(OrderLineSerializer.Meta):
        model = PurchaseOrderItem
        fields = ["id", "product", "sku", "product_name", "quantity", "unit_cost", "line_total"]


class PurchaseOrderSerializer(OrderSerializer):
    supplier = OrganizationPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    status = serializers.ChoiceField(
        choices=PurchaseOrder.Status.choices, default=PurchaseOrder.OPEN_STATUS
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    items = PurchaseOrderItemSerializer(many=True, allow_empty=False)
    total_cost = money_output()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "reference",
            "supplier",
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
