from django import forms
from django_filters import rest_framework as filters

from stock.models import StockMovement
from stock.selectors import movements_between


class IdFilter(filters.Filter):
    """An integer id (a malformed or out-of-range value is a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


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
