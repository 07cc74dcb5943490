from django_filters import rest_framework as filters

from sales.models import SalesOrder


class SalesOrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=SalesOrder.Status.choices)

    class Meta:
        model = SalesOrder
        fields = ["status"]
