"""List parameters of the catalogue: a malformed value is a 400, never ignored, never a 500."""

from django.db.models import Q
from django.db.models.functions import Lower
from django_filters import rest_framework as filters

from core.dates import local_range, local_today, time_zone_of
from core.fields import MONEY_DIGITS, MONEY_PLACES
from core.filters import IdFilter, StrictBooleanFilter
from inventory.models import Product
from inventory.selectors import LOW_STOCK, OUT_OF_STOCK, STOCK_KEEPING, expired_condition


class PriceFilter(filters.NumberFilter):
    """A price, as `money_input` takes one: a decimal >= 0 with at most 2 places."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        kwargs.setdefault("min_value", 0)
        super().__init__(*args, **kwargs)


class ExactCodeFilter(filters.CharFilter):
    """`?sku=` / `?barcode=`: an exact, case-insensitive match (a scanner's lookup), served by
    the (organization, LOWER(code)) unique index."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.alias(**{f"{self.field_name}_lower": Lower(self.field_name)}).filter(
            **{f"{self.field_name}_lower": value.strip().lower()}
        )


class ProductFilter(filters.FilterSet):
    """`low_stock`, `expired` and `in_stock` ask about stock: they select stock-keeping products
    (a product whose variations keep its stock is answered through its variations)."""

    sku = ExactCodeFilter(field_name="sku")
    barcode = ExactCodeFilter(field_name="barcode")
    archived = StrictBooleanFilter(
        method="filter_archived",
        help_text="true: the archived products instead of the live ones (admin and manager).",
    )

    category = IdFilter(field_name="category_id")
    supplier = IdFilter(field_name="supplier_id")
    parent = IdFilter(field_name="parent_id")
    parent__isnull = StrictBooleanFilter(field_name="parent", lookup_expr="isnull")
    low_stock = StrictBooleanFilter(method="filter_low_stock")
    expired = StrictBooleanFilter(method="filter_expired")
    in_stock = StrictBooleanFilter(method="filter_in_stock")
    counted_before = filters.DateFilter(
        method="filter_counted_before",
        help_text="Never counted, or last counted before this local date.",
    )
    min_price = PriceFilter(field_name="price", lookup_expr="gte")
    max_price = PriceFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = Product
        fields = []

    @staticmethod
    def _split(queryset, condition, value):
        stock_keeping = queryset.filter(STOCK_KEEPING)
        return stock_keeping.filter(condition) if value else stock_keeping.exclude(condition)

    def filter_archived(self, queryset, name, value):
        return queryset  # chosen by the view, which checks the caller's role

    def filter_low_stock(self, queryset, name, value):
        return self._split(queryset, LOW_STOCK, value)

    def today(self):
        """The caller's organization's today."""
        return local_today(self.request.user.organization)

    def filter_expired(self, queryset, name, value):
        return self._split(queryset, expired_condition(self.today()), value)

    def filter_counted_before(self, queryset, name, value):
        start, _ = local_range(
            tz=time_zone_of(self.request.user.organization), date_from=value, date_to=None
        )
        return queryset.filter(Q(last_counted_at__isnull=True) | Q(last_counted_at__lt=start))

    def filter_in_stock(self, queryset, name, value):
        return self._split(queryset, OUT_OF_STOCK, not value)
