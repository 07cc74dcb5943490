from rest_framework import serializers

from core.fields import money_output, quantity_input
from core.serializers import CostFieldsMixin
from core.tenancy import OrganizationPrimaryKeyRelatedField
from inventory.models import Product
from purchases.serializers import PurchaseOrderSerializer
from replenishment.models import ReorderRule
from stock.serializers import LocationField
from suppliers.models import Supplier


class ReorderRuleSerializer(serializers.ModelSerializer):
    """A reorder rule of a product at a location (API.md, Replenishment)."""

    product = OrganizationPrimaryKeyRelatedField(queryset=Product.objects.filter(is_archived=False))
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    location = LocationField(required=False, help_text="Default: the organization's default.")
    supplier = OrganizationPrimaryKeyRelatedField(
        queryset=Supplier.objects.all(),
        required=False,
        allow_null=True,
        help_text="Default: the product's preferred supplier product's supplier.",
    )
    min_quantity = quantity_input(help_text="The reorder point.")
    max_quantity = quantity_input(minimum=1, help_text="Order up to this (> min_quantity).")
    snoozed_until = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = ReorderRule
        fields = [
            "id",
            "product",
            "sku",
            "product_name",
            "location",
            "supplier",
            "min_quantity",
            "max_quantity",
            "snoozed_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []  # one per product and location, max > min: the service and the database

    def validate(self, attrs):
        low = attrs.get("min_quantity", getattr(self.instance, "min_quantity", None))
        high = attrs.get("max_quantity", getattr(self.instance, "max_quantity", None))
        if low is not None and high is not None and high <= low:
            raise serializers.ValidationError({"max_quantity": ["Must be above min_quantity."]})
        return attrs


class ReplenishmentQuerySerializer(serializers.Serializer):
    location = serializers.IntegerField(min_value=1, required=False)
    supplier = serializers.IntegerField(min_value=1, required=False)


class ReplenishmentRowSerializer(CostFieldsMixin, serializers.Serializer):
    """A due rule and what to order for it (a row of `selectors.replenishment_rows`)."""

    cost_fields = ("unit_cost", "line_cost")

    rule = serializers.IntegerField()
    product = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    location = serializers.IntegerField()
    supplier = serializers.IntegerField(allow_null=True)
    supplier_sku = serializers.CharField(allow_null=True)
    available = serializers.IntegerField()
    on_order = serializers.IntegerField()
    min_quantity = serializers.IntegerField()
    max_quantity = serializers.IntegerField()
    suggested_quantity = serializers.IntegerField()
    pack_size = serializers.IntegerField()
    packs = serializers.IntegerField()
    unit_cost = money_output(allow_null=True)
    line_cost = money_output(allow_null=True, help_text="suggested_quantity * unit_cost")
    average_daily_sales = serializers.DecimalField(
        max_digits=None, decimal_places=2, help_text="Units sold there over 90 days / 90."
    )
    days_of_cover = serializers.DecimalField(
        max_digits=None,
        decimal_places=1,
        allow_null=True,
        help_text="available / average_daily_sales; null when nothing sold.",
    )


class ReplenishmentOrdersSerializer(serializers.Serializer):
    location = LocationField(required=False, allow_null=True, help_text="Default: every one.")
    supplier = OrganizationPrimaryKeyRelatedField(
        queryset=Supplier.objects.all(),
        required=False,
        allow_null=True,
        help_text="Default: every one.",
    )


class ReplenishmentOrdersResultSerializer(serializers.Serializer):
    purchase_orders = PurchaseOrderSerializer(many=True)
