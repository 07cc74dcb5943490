from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import cost_input, quantity_input
from core.serializers import CostFieldsMixin
from core.tenancy import OrganizationPrimaryKeyRelatedField
from inventory.models import Product
from stock.models import Location, Lot, StockLevel, StockMovement, Transfer
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


class LocationField(OrganizationPrimaryKeyRelatedField):
    """A location of the caller's organization that takes stock (not archived)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Location.objects.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        location = super().to_internal_value(data)
        if location.is_archived:
            raise serializers.ValidationError(f"Location {location.name} is archived.")
        return location


class LocationSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=100)
    code = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    is_default = serializers.BooleanField(required=False)

    class Meta:
        model = Location
        fields = [
            "id",
            "name",
            "code",
            "address",
            "is_default",
            "is_archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_archived", "created_at", "updated_at"]
        validators = []  # uniqueness: the service and the database

    def validate_name(self, value):
        return value.strip()


class LotSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = Lot
        fields = [
            "id",
            "product",
            "sku",
            "code",
            "expiration_date",
            "quantity",
            "is_expired",
            "created_at",
        ]
        read_only_fields = ["id", "product", "sku", "code", "quantity", "created_at"]


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    location_name = serializers.CharField(source="location.name", read_only=True)
    lot_code = serializers.CharField(
        source="lot.code", read_only=True, allow_null=True, default=None
    )
    expiration_date = serializers.DateField(
        source="lot.expiration_date", read_only=True, allow_null=True, default=None
    )
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "product",
            "sku",
            "product_name",
            "location",
            "location_name",
            "lot",
            "lot_code",
            "expiration_date",
            "quantity",
            "allocated",
            "available",
        ]
        read_only_fields = fields


class MovementLotSerializer(serializers.Serializer):
    lot = serializers.IntegerField(source="lot_id", read_only=True)
    lot_code = serializers.CharField(source="lot.code", read_only=True)
    expiration_date = serializers.DateField(
        source="lot.expiration_date", read_only=True, allow_null=True
    )
    delta = serializers.IntegerField(read_only=True)


class StockMovementSerializer(CostFieldsMixin, serializers.ModelSerializer):
    """A ledger line; on input product, location, movement_type, quantity, lot_code,
    expiration_date, unit_cost (IN only) and note."""

    cost_fields = ("unit_cost",)

    product = StockKeepingProductField()
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    location = LocationField(required=False, help_text="Default: the organization's default.")
    location_name = serializers.CharField(source="location.name", read_only=True)
    movement_type = serializers.ChoiceField(choices=StockMovement.MovementType.choices)
    quantity = quantity_input(
        help_text="IN and OUT: > 0, the amount moved. ADJUST: >= 0, the counted quantity there.",
    )
    lot_code = serializers.CharField(
        write_only=True,
        required=False,
        max_length=64,
        help_text="The lot: required for a lot-tracked product's IN and ADJUST.",
    )
    expiration_date = serializers.DateField(
        write_only=True, required=False, help_text="The expiry of the lot an IN creates."
    )
    unit_cost = cost_input(
        required=False,
        allow_null=True,
        help_text="IN: what each unit cost (default: the product's average_cost). Other "
        "movements: read-only, the average cost at that moment.",
    )
    lots = MovementLotSerializer(source="lot_lines", many=True, read_only=True)
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
            "location",
            "location_name",
            "movement_type",
            "quantity",
            "lot_code",
            "expiration_date",
            "unit_cost",
            "lots",
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
        if (
            attrs.get("unit_cost") is not None
            and attrs["movement_type"] != StockMovement.MovementType.IN
        ):
            raise serializers.ValidationError(
                {
                    "unit_cost": [
                        "Only an IN takes a unit cost; other movements are valued at "
                        "the average cost."
                    ]
                }  # fmt: skip
            )
        return attrs


class TransferSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    product = StockKeepingProductField()
    from_location = LocationField()
    to_location = LocationField()
    quantity = quantity_input(minimum=1)
    lot_code = serializers.CharField(write_only=True, required=False, max_length=64)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    movements = serializers.SerializerMethodField()
    performed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Transfer
        fields = [
            "id",
            "reference",
            "product",
            "from_location",
            "to_location",
            "quantity",
            "lot_code",
            "note",
            "movements",
            "performed_by",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        if attrs["from_location"] == attrs["to_location"]:
            raise serializers.ValidationError(
                {"to_location": ["A transfer needs two different locations."]}
            )
        return attrs

    @extend_schema_field(StockMovementSerializer(many=True))
    def get_movements(self, transfer) -> list[dict]:
        movements = [transfer.out_movement, transfer.in_movement]
        return StockMovementSerializer(movements, many=True, context=self.context).data
