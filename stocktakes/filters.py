from django_filters import rest_framework as filters

from core.filters import IdFilter, StrictBooleanFilter
from stocktakes.models import Stocktake, StocktakeLine


class StocktakeFilter(filters.FilterSet):
    location = IdFilter(field_name="location_id")
    status = filters.ChoiceFilter(choices=Stocktake.Status.choices)

    class Meta:
        model = Stocktake
        fields = []


class StocktakeLineFilter(filters.FilterSet):
    counted = StrictBooleanFilter(field_name="counted_quantity", lookup_expr="isnull", exclude=True)

    class Meta:
        model = StocktakeLine
        fields = []
