from django.db.models import Exists, OuterRef, Q
from django_filters import rest_framework as filters

from core.dates import local_today
from core.filters import DaysFilter, IdFilter, StrictBooleanFilter
from inventory.filters import ProductFilter
from inventory.models import LOW_STOCK, STOCK_KEEPING, Product
from inventory.selectors import expired_by, expiry_window
from stock.models import Lot, StockLevel, StockMovement
from stock.selectors import expired_level, expiring_within, movements_between


class StockMovementFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    location = IdFilter(field_name="location_id")
    lot = IdFilter(method="filter_lot")
    movement_type = filters.ChoiceFilter(choices=StockMovement.MovementType.choices)
    source = filters.ChoiceFilter(choices=StockMovement.Source.choices)
    reference = filters.CharFilter(field_name="reference", max_length=50)
    date_from = filters.DateFilter(
        method="filter_dates", help_text="The organization's local date, inclusive."
    )
    date_to = filters.DateFilter(
        method="filter_dates", help_text="The organization's local date, inclusive."
    )

    class Meta:
        model = StockMovement
        fields = ["product", "location", "movement_type", "source", "date_from", "date_to"]

    def filter_dates(self, queryset, name, value):
        return movements_between(
            queryset, organization=self.request.user.organization, **{name: value}
        )

    def filter_lot(self, queryset, name, value):
        return queryset.filter(lot_lines__lot_id=value).distinct()


class LotFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    location = IdFilter(method="filter_location", help_text="Lots with stock there.")
    expired = StrictBooleanFilter(method="filter_expired")
    expires_within = DaysFilter(method="filter_expires_within")
    in_stock = StrictBooleanFilter(method="filter_in_stock")

    class Meta:
        model = Lot
        fields = []

    def filter_location(self, queryset, name, value):
        held = StockLevel.objects.filter(lot=OuterRef("pk"), location_id=value, quantity__gt=0)
        return queryset.filter(Exists(held))

    def filter_expired(self, queryset, name, value):
        expired = expired_by(local_today(self.request.user.organization))
        return queryset.filter(expired) if value else queryset.exclude(expired)

    def filter_expires_within(self, queryset, name, value):
        today = local_today(self.request.user.organization)
        return queryset.filter(expiry_window(value, today), quantity__gt=0)

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(quantity__gt=0) if value else queryset.filter(quantity=0)


class StockLevelFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    location = IdFilter(field_name="location_id")
    lot = IdFilter(field_name="lot_id")
    low_stock = StrictBooleanFilter(method="filter_low_stock", help_text="The product is low.")
    expired = StrictBooleanFilter(method="filter_expired")

    class Meta:
        model = StockLevel
        fields = []

    def filter_low_stock(self, queryset, name, value):
        low = Q(product__in=Product.objects.filter(LOW_STOCK).values("pk"))
        return queryset.filter(low) if value else queryset.exclude(low)

    def filter_expired(self, queryset, name, value):
        """A level of an expired lot, or of a product without lots that has expired."""
        condition = expired_level(local_today(self.request.user.organization))
        return queryset.filter(condition) if value else queryset.exclude(condition)


class ProductStockFilter(ProductFilter):
    """The product list's filters, with those that ask where and how long stock lasts."""

    location = IdFilter(method="filter_location", help_text="Products with stock on hand there.")
    expires_within = DaysFilter(
        method="filter_expires_within",
        help_text="Stock expiring within N days from today, not expired yet.",
    )

    def filter_location(self, queryset, name, value):
        here = StockLevel.objects.filter(product=OuterRef("pk"), location_id=value, quantity__gt=0)
        return queryset.filter(Exists(here))

    def filter_expires_within(self, queryset, name, value):
        organization = self.request.user.organization
        return queryset.filter(STOCK_KEEPING).filter(
            expiring_within(value, organization_id=organization.pk, today=self.today())
        )


class VariationStockFilter(ProductStockFilter):
    product = IdFilter(field_name="parent_id")
