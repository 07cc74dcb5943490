from rest_framework import serializers

from core.fields import money_input
from core.tenancy import OrganizationPrimaryKeyRelatedField
from orders.serializers import OrderLineSerializer, OrderSerializer
from purchases.models import PurchaseOrder, PurchaseOrderItem
from suppliers.models import Supplier


class PurchaseOrderItemSerializer(OrderLineSerializer):
    required_on_write = ("product", "quantity", "unit_cost")

    unit_cost = money_input()

    class Meta(OrderLineSerializer.Meta):
        model = PurchaseOrderItem


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
