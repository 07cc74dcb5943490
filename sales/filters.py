from django_filters import rest_framework as filters

from core.dates import within_local_dates
from core.filters import IdFilter
from sales.models import CustomerReturn, SalesOrder


class SalesOrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=SalesOrder.Status.choices)

    class Meta:
        model = SalesOrder
        fields = ["status"]


class CustomerReturnFilter(filters.FilterSet):
    sales_order = IdFilter(field_name="sales_order_id")
    date_from = filters.DateFilter(
        method="filter_dates", help_text="The organization's local date, inclusive."
    )
    date_to = filters.DateFilter(
        method="filter_dates", help_text="The organization's local date, inclusive."
    )

    class Meta:
        model = CustomerReturn
        fields = ["sales_order", "date_from", "date_to"]

    def filter_dates(self, queryset, name, value):
        return within_local_dates(
            queryset,
            field="created_at",
            organization=self.request.user.organization,
            **{name: value},
        )
