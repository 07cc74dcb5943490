from rest_framework import serializers

from core.fields import cost_output, money_input, money_output, quantity_input
from core.serializers import CostFieldsMixin
from core.tenancy import OrganizationPrimaryKeyRelatedField
from inventory.models import Category, Product
from suppliers.models import Supplier

MAX_ATTRIBUTES = 20


class CategorySerializer(serializers.ModelSerializer):
    product_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "description", "product_count", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness (case-insensitive, per organization) is checked by the service and the DB.
        validators = []


class ProductSerializer(CostFieldsMixin, serializers.ModelSerializer):
    """A product (or variation) as the list, the detail and the export show it."""

    cost_fields = ("cost_price", "average_cost")

    sku = serializers.CharField(max_length=64, required=False, allow_blank=True)
    barcode = serializers.CharField(
        max_length=64, required=False, allow_null=True, allow_blank=True, default=None
    )
    category = OrganizationPrimaryKeyRelatedField(
        queryset=Category.objects.all(), allow_null=True, required=False
    )
    category_name = serializers.CharField(
        source="category.name", read_only=True, default=None, allow_null=True
    )
    supplier = OrganizationPrimaryKeyRelatedField(
        queryset=Supplier.objects.all(), allow_null=True, required=False
    )
    price = money_input()
    cost_price = money_input(
        required=False,
        allow_null=True,
        help_text="The expected purchase cost: the default unit_cost of a purchase order line.",
    )
    average_cost = cost_output(help_text="Moving-average cost of the stock on hand.")
    quantity = quantity_input(required=False)
    allocated = serializers.IntegerField(read_only=True)
    available = serializers.IntegerField(read_only=True)
    on_order = serializers.IntegerField(
        read_only=True,
        help_text="Units on open purchase orders (drafts included) not yet received.",
    )
    low_stock_threshold = quantity_input(required=False)
    track_lots = serializers.BooleanField(required=False)
    expired_quantity = serializers.IntegerField(read_only=True)
    is_low_stock = serializers.BooleanField(read_only=True)
    is_expired = serializers.BooleanField(read_only=True)
    stock_value = money_output()
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    attributes = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "barcode",
            "name",
            "description",
            "category",
            "category_name",
            "supplier",
            "price",
            "cost_price",
            "average_cost",
            "quantity",
            "allocated",
            "available",
            "low_stock_threshold",
            "on_order",
            "last_counted_at",
            "track_lots",
            "expiration_date",
            "expired_quantity",
            "is_low_stock",
            "is_expired",
            "stock_value",
            "parent",
            "attributes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "last_counted_at", "created_at", "updated_at"]
        # SKU uniqueness is checked by the service and the database constraint.
        validators = []

    def validate_sku(self, value):
        return value.strip()

    def validate_barcode(self, value):
        return (value or "").strip() or None


class VariationSerializer(ProductSerializer):
    """A variation: its own SKU, attributes, stock and price; category and supplier are the
    parent's."""

    name = serializers.CharField(max_length=255, required=False)
    price = money_input(required=False)
    category = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    supplier = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    attributes = serializers.DictField(
        child=serializers.CharField(max_length=100), allow_empty=False
    )

    def validate_attributes(self, value):
        if len(value) > MAX_ATTRIBUTES:
            raise serializers.ValidationError(f"At most {MAX_ATTRIBUTES} attributes.")
        cleaned = {}
        for key, item in value.items():
            key = key.strip()
            if not key or len(key) > 50:
                raise serializers.ValidationError("Attribute names are 1 to 50 characters.")
            cleaned[key] = item.strip()
        return cleaned


class AlertsSerializer(serializers.Serializer):
    low_stock = ProductSerializer(many=True)
    expired = ProductSerializer(many=True)
    expiring_soon = ProductSerializer(many=True)
    low_stock_count = serializers.IntegerField()
    expired_count = serializers.IntegerField()
    expiring_soon_count = serializers.IntegerField()


class AlertsQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
    days = serializers.IntegerField(
        min_value=0,
        max_value=36_500,
        required=False,
        help_text="Expiring soon: within this many days (default ALERT_EXPIRY_DAYS).",
    )
