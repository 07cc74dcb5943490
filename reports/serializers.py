"""Report parameters (validated: a bad date or limit is a 400) and report shapes."""

from rest_framework import serializers

from core.fields import money_output
from core.tenancy import OrganizationPrimaryKeyRelatedField
from stock.models import Location


class DateRangeSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text="UTC date, inclusive.")
    date_to = serializers.DateField(required=False, help_text="UTC date, inclusive.")

    def validate(self, attrs):
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from and date_to and date_from > date_to:
            raise serializers.ValidationError({"date_to": ["Must be on or after date_from."]})
        return attrs


class TopProductsParamsSerializer(DateRangeSerializer):
    limit = serializers.IntegerField(
        required=False, default=10, min_value=1, max_value=100, help_text="1 to 100."
    )


class DashboardParamsSerializer(serializers.Serializer):
    location = OrganizationPrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        required=False,
        help_text="Count only the stock at this location of the organization.",
    )


class CategoryFiguresSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, read_only=True)
    name = serializers.CharField(allow_null=True, read_only=True)
    product_count = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_value = money_output()


class DashboardSerializer(serializers.Serializer):
    total_products = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_inventory_value = money_output()
    expired_stock_value = money_output()
    low_stock_count = serializers.IntegerField(read_only=True)
    out_of_stock_count = serializers.IntegerField(read_only=True)
    categories = CategoryFiguresSerializer(many=True, read_only=True)


class TotalSalesSerializer(serializers.Serializer):
    order_count = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_revenue = money_output()
    returned_quantity = serializers.IntegerField(read_only=True)
    returned_amount = money_output()
    net_revenue = money_output()


class TopProductSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id", read_only=True)
    sku = serializers.CharField(source="product__sku", read_only=True)
    name = serializers.CharField(source="product__name", read_only=True)
    quantity_sold = serializers.IntegerField(read_only=True)
    revenue = money_output()
