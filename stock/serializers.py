from rest_framework import serializers

from core.fields import MAX_QUANTITY
from core.tenancy import OrganizationPrimaryKeyRelatedField
from inventory.models import Product
from stock.models import StockMovement
from stock.services import NotStockKeeping

# API.md: an order holds at most 1,000 lines (more is a 400).
MAX_ORDER_LINES = 1000
_PREFETCHED = "_stock_keeping_products"


class StockKeepingProductField(OrganizationPrimaryKeyRelatedField):
    """A product of the caller's organization that holds stock: live and without variations.

    Used wherever stock moves (movements, purchase and sales order lines). Inside a
    `StockLineListSerializer` the products of every line are read in one query.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Product.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        prefetched = self.context.get(_PREFETCHED)
        product = prefetched.get(data) if prefetched is not None and type(data) is int else None
        if product is None:
            product = super().to_internal_value(data)
        if product.is_archived:
            raise serializers.ValidationError("This product is archived.")
        if product.has_variations:
            raise serializers.ValidationError(NotStockKeeping(product).message)
        return product


class StockLineListSerializer(serializers.ListSerializer):
    """Order lines: at most MAX_ORDER_LINES, their products read in one query (not one per
    line, which made a 10,000-line order take 16 s)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", MAX_ORDER_LINES)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) <= MAX_ORDER_LINES:
            ids = {line.get("product") for line in data if isinstance(line, dict)} - {None}
            ids = [pk for pk in ids if type(pk) is int and 0 < pk < 2**63]
            field = self.child.fields["product"]
            self.context[_PREFETCHED] = field.get_queryset().in_bulk(ids)
        return super().to_internal_value(data)


class StockMovementSerializer(serializers.ModelSerializer):
    """A ledger line; on input only product, movement_type, quantity and note."""

    product = StockKeepingProductField()
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    movement_type = serializers.ChoiceField(choices=StockMovement.MovementType.choices)
    quantity = serializers.IntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        help_text="IN and OUT: > 0, the amount moved. ADJUST: >= 0, the counted quantity.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    performed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "product",
            "sku",
            "product_name",
            "movement_type",
            "quantity",
            "delta",
            "balance_after",
            "note",
            "source",
            "reference",
            "performed_by",
            "created_at",
        ]
        read_only_fields = ["delta", "balance_after", "source", "reference", "created_at"]

    def validate(self, attrs):
        if attrs["movement_type"] != StockMovement.MovementType.ADJUST and attrs["quantity"] < 1:
            raise serializers.ValidationError(
                {"quantity": ["IN and OUT movements need a quantity greater than 0."]}
            )
        return attrs
