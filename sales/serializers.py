from rest_framework import serializers

from core.fields import cost_output, money_input, money_output
from core.serializers import CostFieldsMixin
from orders.serializers import (
    DocumentLineSerializer,
    DocumentSerializer,
    OrderLineSerializer,
    OrderSerializer,
)
from sales.models import CustomerReturn, CustomerReturnLine, SalesOrder, SalesOrderItem


class SalesOrderItemSerializer(CostFieldsMixin, OrderLineSerializer):
    cost_fields = ("unit_cost", "line_cost")

    unit_price = money_input(
        required=False, allow_null=True, help_text="Defaults to the product's price."
    )
    unit_cost = cost_output(help_text="Set at fulfilment: the average cost at that moment.")
    line_cost = money_output(
        allow_null=True, help_text="Set at fulfilment: the line's cost of goods sold."
    )

    class Meta(OrderLineSerializer.Meta):
        model = SalesOrderItem

    def get_field_names(self, declared_fields, info):
        fields = super().get_field_names(declared_fields, info)
        return [*fields, "unit_cost", "line_cost", "returned_quantity"]

    def get_extra_kwargs(self):
        return {**super().get_extra_kwargs(), "returned_quantity": {"read_only": True}}


class SalesOrderSerializer(CostFieldsMixin, OrderSerializer):
    line_serializer = SalesOrderItemSerializer
    total_field = "total_amount"
    cost_fields = ("total_cost", "gross_margin")

    total_cost = money_output(
        allow_null=True, help_text="The cost of goods sold, once fulfilled (else null)."
    )
    gross_margin = money_output(
        allow_null=True, help_text="total_amount - total_cost, once fulfilled (else null)."
    )

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
            "total_cost",
            "gross_margin",
            "created_by",
            "created_at",
            "confirmed_at",
            "fulfilled_at",
        ]
        read_only_fields = ["id", "created_at", "confirmed_at", "fulfilled_at"]


class CustomerReturnLineSerializer(DocumentLineSerializer):
    unit_price = money_output()
    line_total = money_output()

    class Meta:
        model = CustomerReturnLine
        fields = ["item", "product", "quantity", "unit_price", "line_total"]


class CustomerReturnSerializer(DocumentSerializer):
    """Goods a customer brought back; on input restock, location, note and lines."""

    reference = serializers.CharField(read_only=True)
    restock = serializers.BooleanField(default=True)
    lines = CustomerReturnLineSerializer(many=True, allow_empty=False)
    total_amount = money_output()

    class Meta:
        model = CustomerReturn
        fields = [
            "id",
            "reference",
            "sales_order",
            "restock",
            "location",
            "note",
            "lines",
            "total_amount",
            "movements",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "sales_order", "created_at"]
