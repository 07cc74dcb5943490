"""Report parameters (validated: a bad date or limit is a 400) and report shapes. Cost figures
are null for callers who may not see costs (`context["hide_costs"]`: the `sales` role)."""

import datetime

from rest_framework import serializers

from core.dates import local_today
from core.fields import money_output
from core.serializers import CostFieldsMixin
from core.tenancy import OrganizationPrimaryKeyRelatedField
from reports.selectors import INTERVALS, MAX_PERIODS, period_count
from stock.models import Location


def cost_money():
    """A cost figure: 2 places, null for callers who may not see costs."""
    return money_output(allow_null=True)


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


class SalesOverTimeParamsSerializer(DateRangeSerializer):
    interval = serializers.ChoiceField(
        choices=INTERVALS, default="day", help_text="Weeks start on Monday."
    )
    date_from = serializers.DateField(
        required=False, help_text="UTC date, inclusive; default: 29 days before date_to."
    )
    date_to = serializers.DateField(
        required=False, help_text="UTC date, inclusive; default: today (UTC)."
    )

    def validate(self, attrs):
        date_from = attrs.get("date_from")
        today = local_today(self.context.get("organization_id"))
        date_to = attrs.get("date_to") or max(today, date_from or datetime.date.min)
        attrs["date_to"] = date_to
        if date_from is None:
            date_from = date_to - min(datetime.timedelta(days=29), date_to - datetime.date.min)
        attrs["date_from"] = date_from
        attrs = super().validate(attrs)
        periods = period_count(attrs["date_from"], attrs["date_to"], attrs["interval"])
        if periods > MAX_PERIODS:
            raise serializers.ValidationError(
                {
                    "date_from": [
                        f"At most {MAX_PERIODS} periods ({periods} {attrs['interval']}s "
                        "asked): narrow the dates or take a longer interval."
                    ]
                }  # fmt: skip
            )
        return attrs


class DashboardParamsSerializer(serializers.Serializer):
    location = OrganizationPrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        required=False,
        help_text="Count only the stock at this location of the organization.",
    )


class CategoryFiguresSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost_value",)

    id = serializers.IntegerField(allow_null=True, read_only=True)
    name = serializers.CharField(allow_null=True, read_only=True)
    product_count = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_value = money_output()
    total_cost_value = cost_money()


class DashboardSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost_value",)

    total_products = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_inventory_value = money_output()
    total_cost_value = cost_money()
    expired_stock_value = money_output()
    low_stock_count = serializers.IntegerField(read_only=True)
    out_of_stock_count = serializers.IntegerField(read_only=True)
    categories = CategoryFiguresSerializer(many=True, read_only=True)


class TotalSalesSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost", "gross_margin")

    order_count = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_revenue = money_output()
    total_cost = cost_money()
    gross_margin = cost_money()
    returned_quantity = serializers.IntegerField(read_only=True)
    returned_amount = money_output()
    net_revenue = money_output()


class TopProductSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost", "gross_margin")

    product = serializers.IntegerField(source="product_id", read_only=True)
    sku = serializers.CharField(source="product__sku", read_only=True)
    name = serializers.CharField(source="product__name", read_only=True)
    quantity_sold = serializers.IntegerField(read_only=True)
    revenue = money_output()
    total_cost = cost_money()
    gross_margin = cost_money()


class SalesPeriodSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost", "gross_margin")

    period = serializers.DateField(read_only=True, help_text="The period's first date.")
    order_count = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_revenue = money_output()
    total_cost = cost_money()
    gross_margin = cost_money()
