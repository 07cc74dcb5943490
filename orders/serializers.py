"""What every order's representation shares: its reference, author and lines."""

from rest_framework import serializers

from core.fields import money_output, quantity_input
from stock.serializers import StockKeepingProductField, StockLineListSerializer


class OrderLineSerializer(serializers.ModelSerializer):
    """A line: a stock-keeping product of the caller's organization (with its SKU and name),
    a quantity > 0, the price field the subclass declares, and the line total."""

    # A PATCH is partial down to its lines, but every line it sends must have these.
    required_on_write: tuple[str, ...] = ("product", "quantity")

    product = StockKeepingProductField()
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    quantity = quantity_input(minimum=1)
    line_total = money_output()

    class Meta:
        list_serializer_class = StockLineListSerializer
        read_only_fields = ["id"]

    def validate(self, attrs):
        missing = [name for name in self.required_on_write if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return attrs


class OrderSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
