from rest_framework import serializers

from core.fields import MAX_QUANTITY
from sales.models import SalesOrder, SalesOrderItem
from stock.serializers import StockKeepingProductField, StockLineListSerializer


class SalesOrderItemSerializer(serializers.ModelSerializer):
    product = StockKeepingProductField()
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Defaults to the product's price.",
    )
    line_total = serializers.DecimalField(max_digits=30, decimal_places=2, read_only=True)

    class Meta:
        model = SalesOrderItem
        list_serializer_class = StockLineListSerializer
        fields = ["id", "product", "sku", "product_name", "quantity", "unit_price", "line_total"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        # A PATCH is partial down to its lines, but every line it sends must be complete.
        missing = [name for name in ("product", "quantity") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return attrs


class SalesOrderSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(
        choices=SalesOrder.Status.choices, default=SalesOrder.Status.PENDING
    )
    customer_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    customer_email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    items = SalesOrderItemSerializer(many=True, allow_empty=False)
    total_amount = serializers.DecimalField(max_digits=30, decimal_places=2, read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "reference",
            "customer_name",
            "customer_email",
            "status",
            "items",
            "total_amount",
            "created_by",
            "created_at",
            "fulfilled_at",
        ]
        read_only_fields = ["id", "created_at", "fulfilled_at"]

    def validate_items(self, items):
        if not items:
            raise serializers.ValidationError("An order needs at least one item.")
        return items
