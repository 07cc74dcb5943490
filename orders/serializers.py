"""What every order's representation shares: its reference, author and lines."""

from rest_framework import serializers

from core.fields import money_output, quantity_input
from stock.serializers import (
    LocationField,
    StockKeepingProductField,
    StockLineListSerializer,
    StockMovementSerializer,
)


class OrderLineSerializer(serializers.ModelSerializer):
    # A line: a stock-keeping product of the caller's organization (with its SKU and name), a
    # quantity > 0, the price field the subclass declares, and the line total. (Comments, not a
    # docstring: the schema would show it as every line component's description.)

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

    def get_field_names(self, declared_fields, info):
        price = self.Meta.model.PRICE_FIELD
        return ["id", "product", "sku", "product_name", "quantity", price, "line_total"]

    def validate(self, attrs):
        missing = [name for name in self.required_on_write if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return attrs


class OrderSerializer(serializers.ModelSerializer):
    # An order: its reference, its status (any of its model's, default the open one), its
    # lines as `items` (at least one, written nested) and their total, who created it; the
    # subclass names its line serializer and total, and adds its own fields.

    line_serializer: type[OrderLineSerializer]
    total_field: str

    reference = serializers.CharField(read_only=True)
    location = LocationField(required=False, help_text="Default: the organization's default.")
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    def __init_subclass__(cls, **kwargs):
        """Declare the fields every order has, from what the subclass names."""
        super().__init_subclass__(**kwargs)
        model = cls.Meta.model
        cls._declared_fields = {
            **cls._declared_fields,
            "status": serializers.ChoiceField(
                choices=model.Status.choices, default=model.OPEN_STATUS
            ),
            "items": cls.line_serializer(many=True, allow_empty=False),
            cls.total_field: money_output(),
        }


class DocumentLineSerializer(serializers.ModelSerializer):
    # A line of a document recorded against an order (a receipt, a return): an item (line) of
    # the order by id, its product, a quantity; the subclass adds its own fields. (Comments, not
    # a docstring: the schema would show it as every line component's description.)

    item = serializers.IntegerField(source="item_id", min_value=1)
    product = serializers.IntegerField(source="item.product_id", read_only=True)
    quantity = quantity_input(minimum=1)


class DocumentSerializer(serializers.ModelSerializer):
    # A document recorded against an order: where (on input, default the order's location), a
    # note, its lines (the subclass's), the movements it made and who recorded it.

    location = LocationField(required=False, help_text="Default: the order's location.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    movements = StockMovementSerializer(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
