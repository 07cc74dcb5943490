from rest_framework import serializers

from inventory.models import Product
from stock.models import StockMovement
from stock.services import MAX_QUANTITY, NotStockKeeping
from users.tenancy import OrganizationPrimaryKeyRelatedField


class StockKeepingProductField(OrganizationPrimaryKeyRelatedField):
    """A product of the caller's organization that holds stock: live and without variations.

    Used wherever stock moves (movements, purchase and sales order lines).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Product.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        product = super().to_internal_value(data)
        if product.is_archived:
            raise serializers.ValidationError("This product is archived.")
        if product.has_variations:
            raise serializers.ValidationError(NotStockKeeping(product).message)
        return product


class StockMovementSerializer(serializers.ModelSerializer):
    """A ledger line; on input only product, movement_type, quantity and note."""

    product = StockKeepingProductField()
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
