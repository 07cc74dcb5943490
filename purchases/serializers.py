from rest_framework import serializers

from core.fields import MAX_QUANTITY
from core.tenancy import OrganizationPrimaryKeyRelatedField
from purchases.models import PurchaseOrder, PurchaseOrderItem
from stock.serializers import StockKeepingProductField, StockLineListSerializer
from suppliers.models import Supplier


class PurchaseOrderItemSerializer(serializers.ModelSerializer):
    product = StockKeepingProductField()
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    line_total = serializers.DecimalField(max_digits=30, decimal_places=2, read_only=True)

    class Meta:
        model = PurchaseOrderItem
        list_serializer_class = StockLineListSerializer
        fields = ["id", "product", "sku", "product_name", "quantity", "unit_cost", "line_total"]
        read_only_fields = ["id"]

    def validate(self, attrs):
        # A PATCH is partial down to its lines, but every line it sends must be complete.
        missing = [name for name in ("product", "quantity", "unit_cost") if name not in attrs]
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in missing}
            )
        return attrs


class PurchaseOrderSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    supplier = OrganizationPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    status = serializers.ChoiceField(
        choices=PurchaseOrder.Status.choices, default=PurchaseOrder.Status.DRAFT
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    items = PurchaseOrderItemSerializer(many=True, allow_empty=False)
    total_cost = serializers.DecimalField(max_digits=30, decimal_places=2, read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "reference",
            "supplier",
            "status",
            "expected_date",
            "notes",
            "items",
            "total_cost",
            "created_by",
            "created_at",
            "received_at",
        ]
        read_only_fields = ["id", "created_at", "received_at"]

    def validate_items(self, items):
        if not items:
            raise serializers.ValidationError("An order needs at least one item.")
        return items
