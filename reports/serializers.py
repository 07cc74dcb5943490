"""Report parameters (validated: a bad date or limit is a 400) and report shapes. Dates are the
organization's local dates (`context["today"]`: its today). Cost figures are null for callers
who may not see costs (`context["hide_costs"]`: the `sales` role)."""

import datetime

from rest_framework import serializers

from core.currencies import CurrencyField
from core.fields import money_output
from core.serializers import CostFieldsMixin
from core.tenancy import OrganizationPrimaryKeyRelatedField
from reports.selectors import INTERVALS, MAX_PERIODS, period_count
from stock.models import Location


def cost_money(**kwargs):
    """A cost figure: 2 places, null for callers who may not see costs."""
    return money_output(allow_null=True, **kwargs)


LOCAL_DATE = "The organization's local date (its time zone), inclusive"


def currency_output():
    return CurrencyField(
        read_only=True,
        help_text="The organization's currency (ISO 4217): every amount is in it.",
    )


class DateRangeSerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, help_text=f"{LOCAL_DATE}.")
    date_to = serializers.DateField(required=False, help_text=f"{LOCAL_DATE}.")

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
        required=False, help_text=f"{LOCAL_DATE}; default: 29 days before date_to."
    )
    date_to = serializers.DateField(
        required=False, help_text=f"{LOCAL_DATE}; default: the organization's today."
    )

    def validate(self, attrs):
        date_from = attrs.get("date_from")
        today = self.context["today"]
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

    currency = currency_output()
    total_products = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_inventory_value = money_output()
    total_cost_value = cost_money()
    expired_stock_value = money_output()
    low_stock_count = serializers.IntegerField(read_only=True)
    out_of_stock_count = serializers.IntegerField(read_only=True)
    categories = CategoryFiguresSerializer(many=True, read_only=True)


class TotalSalesSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost", "gross_margin", "returned_cost", "net_margin")

    currency = currency_output()
    order_count = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_revenue = money_output()
    total_cost = cost_money()
    gross_margin = cost_money()
    returned_quantity = serializers.IntegerField(read_only=True)
    returned_amount = money_output()
    returned_cost = cost_money(
        help_text="What the restocked returned units cost (at the cost their sale recorded)."
    )
    net_revenue = money_output(help_text="total_revenue - returned_amount")
    net_margin = cost_money(help_text="net_revenue - (total_cost - returned_cost)")


class TopProductSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost", "gross_margin")

    product = serializers.IntegerField(source="product_id", read_only=True)
    sku = serializers.CharField(source="product__sku", read_only=True)
    name = serializers.CharField(source="product__name", read_only=True)
    quantity_sold = serializers.IntegerField(read_only=True)
    revenue = money_output()
    total_cost = cost_money()
    gross_margin = cost_money()
    returned_quantity = serializers.IntegerField(read_only=True)
    net_quantity = serializers.IntegerField(
        read_only=True, help_text="quantity_sold - returned_quantity: what the list ranks by."
    )
    net_revenue = money_output(help_text="revenue less what the returned units brought in")


class SalesPeriodSerializer(CostFieldsMixin, serializers.Serializer):
    cost_fields = ("total_cost", "gross_margin", "returned_cost", "net_margin")

    period = serializers.DateField(read_only=True, help_text="The period's first (local) date.")
    order_count = serializers.IntegerField(read_only=True)
    total_quantity = serializers.IntegerField(read_only=True)
    total_revenue = money_output()
    total_cost = cost_money()
    gross_margin = cost_money()
    returned_amount = money_output(help_text="Customer returns recorded in the period.")
    returned_cost = cost_money(
        help_text="What the restocked returned units cost (at the cost their sale recorded)."
    )
    net_revenue = money_output(help_text="total_revenue - returned_amount")
    net_margin = cost_money(help_text="net_revenue - (total_cost - returned_cost)")
