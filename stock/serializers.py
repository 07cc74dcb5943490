from rest_framework import serializers

from inventory.models import Product
from stock.models import StockMovement
from stock.services import MAX_QUANTITY
from users.tenancy import OrganizationPrimaryKeyRelatedField


class StockMovementSerializer(serializers.ModelSerializer):
    """A ledger line; on input only product, movement_type, quantity and note."""

    product = OrganizationPrimaryKeyRelatedField(queryset=Product.objects.all())
    movement_type = serializers.ChoiceField(choices=StockMovement.MovementType.choices)
    quantity = serializers.IntegerField(
        min_value=0,
        max_value=MAX_QUANTITY,
        help_text="IN and OUT: > 0, the amount moved. ADJUST: >= 0, the counted quantity.",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    performed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

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

    def validate_product(self, product):
        if product.is_archived:
            raise serializers.ValidationError("This product is archived.")
        return product

    def validate(self, attrs):
        if attrs["movement_type"] != StockMovement.MovementType.ADJUST and attrs["quantity"] < 1:
            raise serializers.ValidationError(
                {"quantity": ["IN and OUT movements need a quantity greater than 0."]}
            )
        return attrs
