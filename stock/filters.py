from django_filters import rest_framework as filters

from core.filters import IdFilter
from stock.models import StockMovement
from stock.selectors import movements_between


class StockMovementFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    movement_type = filters.ChoiceFilter(choices=StockMovement.MovementType.choices)
    source = filters.ChoiceFilter(choices=StockMovement.Source.choices)
    date_from = filters.DateFilter(method="filter_dates", help_text="UTC date, inclusive")
    date_to = filters.DateFilter(method="filter_dates", help_text="UTC date, inclusive")

    class Meta:
        model = StockMovement
        fields = ["product", "movement_type", "source", "date_from", "date_to"]

    def filter_dates(self, queryset, name, value):
        return movements_between(queryset, **{name: value})
