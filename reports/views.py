"""Dashboard endpoints: any role of the organization may read them (API.md, Reports); cost
figures are null for callers who may not see costs (the `sales` role)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core.dates import local_today
from core.tenancy import OrganizationScopedMixin, sees_costs
from inventory.models import Product
from inventory.serializers import ProductSerializer
from reports import selectors
from reports.serializers import (
    DashboardParamsSerializer,
    DashboardSerializer,
    DateRangeSerializer,
    SalesOverTimeParamsSerializer,
    SalesPeriodSerializer,
    TopProductSerializer,
    TopProductsParamsSerializer,
    TotalSalesSerializer,
)
from users.permissions import HasRole


def _query_params(request) -> dict:
    """The query string, where an empty value (`?date_from=`) means "not given"."""
    return {key: value for key, value in request.query_params.items() if value != ""}


def _shown(request) -> dict:
    """The serializer context of a report: whether the caller may see cost figures."""
    return {"hide_costs": not sees_costs(request.user)}


class DashboardView(OrganizationScopedMixin, APIView):
    """Stock totals and the per-category breakdown, summed by the database."""

    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"get"})

    permission_classes = [HasRole]

    @extend_schema(parameters=[DashboardParamsSerializer], responses=DashboardSerializer)
    def get(self, request):
        params = DashboardParamsSerializer(
            data=_query_params(request), context={"request": request}
        )
        params.is_valid(raise_exception=True)
        location = params.validated_data.get("location")
        figures = selectors.cached_dashboard(
            organization=request.user.organization, location_id=location and location.pk
        )
        return Response(DashboardSerializer(figures, context=_shown(request)).data)


class DashboardLowStockView(OrganizationScopedMixin, generics.ListAPIView):
    """Low-stock products, paginated, largest shortfall below the threshold first."""

    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"get"})

    permission_classes = [HasRole]
    serializer_class = ProductSerializer
    queryset = Product.objects.all()
    filter_backends = []

    def get_queryset(self):
        return selectors.low_stock_list(
            super().get_queryset(), today=local_today(self.organization)
        )


class TotalSalesView(OrganizationScopedMixin, APIView):
    """Fulfilled sales orders whose fulfilment date is within the organization's local dates,
    inclusive, and the customer returns recorded within them: revenue and margin net of them."""

    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"get"})

    permission_classes = [HasRole]

    @extend_schema(parameters=[DateRangeSerializer], responses=TotalSalesSerializer)
    def get(self, request):
        params = DateRangeSerializer(data=_query_params(request))
        params.is_valid(raise_exception=True)
        figures = selectors.total_sales(
            organization=request.user.organization, **params.validated_data
        )
        return Response(TotalSalesSerializer(figures, context=_shown(request)).data)


class TopProductsView(OrganizationScopedMixin, APIView):
    """Best sellers by units sold less returned within the dates: a plain list of at most
    `limit`."""

    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"get"})

    permission_classes = [HasRole]

    @extend_schema(
        parameters=[TopProductsParamsSerializer], responses=TopProductSerializer(many=True)
    )
    def get(self, request):
        params = TopProductsParamsSerializer(data=_query_params(request))
        params.is_valid(raise_exception=True)
        rows = selectors.top_products(
            organization=request.user.organization, **params.validated_data
        )
        return Response(TopProductSerializer(rows, many=True, context=_shown(request)).data)


class SalesOverTimeView(OrganizationScopedMixin, APIView):
    """Fulfilled sales and customer returns per local day, week (from Monday) or month of the
    organization, every period of the range listed (empty ones too), oldest first: a series to
    draw."""

    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"get"})

    permission_classes = [HasRole]

    @extend_schema(
        parameters=[SalesOverTimeParamsSerializer], responses=SalesPeriodSerializer(many=True)
    )
    def get(self, request):
        params = SalesOverTimeParamsSerializer(
            data=_query_params(request), context={"today": local_today(self.organization)}
        )
        params.is_valid(raise_exception=True)
        rows = selectors.sales_over_time(
            organization=request.user.organization, **params.validated_data
        )
        return Response(SalesPeriodSerializer(rows, many=True, context=_shown(request)).data)
