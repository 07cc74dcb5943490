from rest_framework import serializers

from core.fields import money_input, quantity_input
from core.serializers import CostFieldsMixin
from core.tenancy import OrganizationPrimaryKeyRelatedField
from inventory.models import Product
from suppliers.models import Supplier, SupplierProduct


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "contact_email",
            "phone_number",
            "address",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Uniqueness per organization is checked by the service and the database.
        validators = []

    def validate_unit_cost(self, value):
        if value is None:
            raise serializers.ValidationError("This field may not be null.")
        return value


class SupplierProductSerializer(CostFieldsMixin, serializers.ModelSerializer):
    """What a supplier sells us of a product (API.md, Supplier products)."""

    cost_fields = ("unit_cost",)

    product = OrganizationPrimaryKeyRelatedField(queryset=Product.objects.filter(is_archived=False))
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    supplier = OrganizationPrimaryKeyRelatedField(queryset=Supplier.objects.all())
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    supplier_sku = serializers.CharField(max_length=100, required=False, allow_blank=True)
    pack_size = quantity_input(minimum=1, required=False, help_text="Units in a pack.")
    # Required, never null on input; null on output for the sales role (CostFieldsMixin).
    unit_cost = money_input(allow_null=True, help_text="Per unit, not per pack.")
    lead_time_days = quantity_input(required=False)
    minimum_order_quantity = quantity_input(required=False, help_text="In units.")
    is_preferred = serializers.BooleanField(
        required=False, help_text="At most one per product: setting it clears the others'."
    )

    class Meta:
        model = SupplierProduct
        fields = [
            "id",
            "product",
            "sku",
            "product_name",
            "supplier",
            "supplier_name",
            "supplier_sku",
            "pack_size",
            "unit_cost",
            "lead_time_days",
            "minimum_order_quantity",
            "is_preferred",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # One per product and supplier, one preferred: the service and the database check them.
        validators = []

    def validate_unit_cost(self, value):
        if value is None:
            raise serializers.ValidationError("This field may not be null.")
        return value
