from rest_framework import serializers

from core.fields import money_input
from orders.serializers import OrderLineSerializer, OrderSerializer
from sales.models import SalesOrder, SalesOrderItem


class SalesOrderItemSerializer(OrderLineSerializer):
    unit_price = money_input(
        required=False, allow_null=True, help_text="Defaults to the product's price."
    )

    class Meta(OrderLineSerializer.Meta):
        model = SalesOrderItem


class SalesOrderSerializer(OrderSerializer):
    line_serializer = SalesOrderItemSerializer
    total_field = "total_amount"

    customer_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    customer_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "reference",
            "customer_name",
            "customer_email",
            "location",
            "status",
            "items",
            "total_amount",
            "created_by",
            "created_at",
            "confirmed_at",
            "fulfilled_at",
        ]
        read_only_fields = ["id", "created_at", "confirmed_at", "fulfilled_at"]
