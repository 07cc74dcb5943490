from rest_framework import serializers

from core.fields import money_output, quantity_input
from core.tenancy import OrganizationPrimaryKeyRelatedField
from inventory.models import Category
from stock.serializers import LocationField
from stocktakes.models import Stocktake, StocktakeLine
from stocktakes.services import MAX_COUNT_LINES

MAX_NAMED_PRODUCTS = 10_000


class StocktakeSerializer(serializers.ModelSerializer):
    """A stocktake; POST opens one (its lines: the stock at the location)."""

    reference = serializers.CharField(read_only=True)
    location = LocationField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    blind = serializers.BooleanField(required=False, default=False)
    category = OrganizationPrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True, write_only=True
    )
    products = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        allow_empty=False,
        max_length=MAX_NAMED_PRODUCTS,
        write_only=True,
        help_text="Only these products (ids) are listed.",
    )
    status = serializers.CharField(read_only=True)
    line_count = serializers.IntegerField(read_only=True, default=0)
    counted_count = serializers.IntegerField(read_only=True, default=0)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    variance_quantity = serializers.IntegerField(
        source="variance_quantity_now", read_only=True, allow_null=True, default=None
    )
    variance_value = money_output(source="variance_value_now", allow_null=True, default=None)

    class Meta:
        model = Stocktake
        fields = [
            "id",
            "reference",
            "location",
            "status",
            "blind",
            "note",
            "category",
            "products",
            "line_count",
            "counted_count",
            "created_by",
            "created_at",
            "completed_at",
            "variance_quantity",
            "variance_value",
        ]
        read_only_fields = ["id", "created_at", "completed_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_costs"):
            data["variance_value"] = None
        if self.context.get("hide_expected") and instance.blind and not instance.is_completed:
            data["variance_quantity"] = None
            data["variance_value"] = None
        return data


class StocktakeLineSerializer(serializers.ModelSerializer):
    """A line of the count sheet."""

    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    lot_code = serializers.CharField(source="lot.code", read_only=True, default=None)
    expected_quantity = serializers.IntegerField(source="expected", read_only=True)
    difference = serializers.IntegerField(source="difference_now", read_only=True, allow_null=True)
    counted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    moved_since_count = serializers.BooleanField(read_only=True)

    class Meta:
        model = StocktakeLine
        fields = [
            "id",
            "product",
            "sku",
            "product_name",
            "lot_code",
            "expected_quantity",
            "counted_quantity",
            "difference",
            "counted_by",
            "counted_at",
            "moved_since_count",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_expected"):
            data["expected_quantity"] = None
            data["difference"] = None
        return data


class LineCountSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    lot_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=64
    )
    counted_quantity = quantity_input()


class CountSerializer(serializers.Serializer):
    lines = LineCountSerializer(many=True, allow_empty=False, max_length=MAX_COUNT_LINES)


class SuggestionSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    sku = serializers.CharField()
    product_name = serializers.CharField()
    quantity = serializers.IntegerField(source="on_hand")
    stock_value = money_output()
    last_counted_at = serializers.DateTimeField(allow_null=True)


class SuggestionQuerySerializer(serializers.Serializer):
    location = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=20)
