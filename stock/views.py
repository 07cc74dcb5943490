from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.dates import local_today
from core.exports import CSVRenderer
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from stock import exports, selectors, services
from stock.filters import LotFilter, StockLevelFilter, StockMovementFilter
from stock.models import Lot
from stock.serializers import (
    LocationSerializer,
    LotSerializer,
    StockLevelSerializer,
    StockMovementSerializer,
    TransferSerializer,
)

STOCK_PERMISSIONS = [permissions.IsAuthenticated, RolePermission]
CSV_EXPORT = extend_schema(
    responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV file")},
    filters=True,
)


def csv_action(view):
    return action(
        detail=False,
        methods=["get"],
        renderer_classes=[renderers.JSONRenderer, CSVRenderer],
        pagination_class=None,
    )(CSV_EXPORT(view))


class StockMovementViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The append-only stock ledger: list, read and append; never change or delete (405)."""

    queryset = selectors.movements_with_details()
    serializer_class = StockMovementSerializer
    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"list", "export"})
    permission_classes = STOCK_PERMISSIONS
    filterset_class = StockMovementFilter
    search_fields = ["note", "reference", "product__sku", "product__name"]
    ordering_fields = ["created_at", "id", "quantity", "delta"]
    ordering = ["-created_at", "-id"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movement = services.record_movement(**serializer.validated_data, user=request.user)
        movement = self.get_queryset().get(pk=movement.pk)
        return Response(self.get_serializer(movement).data, status=status.HTTP_201_CREATED)

    @csv_action
    def export(self, request):
        """The same rows as the list, honouring its filters, streamed as CSV."""
        return exports.movements_csv_response(
            self.filter_queryset(self.get_queryset()),
            hide_costs=self.get_serializer_context()["hide_costs"],
            today=local_today(self.organization),
        )


class LocationViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Where the organization keeps stock; archived locations are hidden."""

    queryset = selectors.live_locations()
    serializer_class = LocationSerializer
    permission_classes = STOCK_PERMISSIONS
    filterset_fields = []
    search_fields = ["name", "code", "address"]
    ordering_fields = ["name", "code", "created_at"]
    ordering = ["name"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        location = services.create_location(
            organization=request.user.organization, **serializer.validated_data
        )
        return Response(self.get_serializer(location).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        location = self.get_object()
        serializer = self.get_serializer(
            location, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        location = services.update_location(location=location, **serializer.validated_data)
        return Response(self.get_serializer(location).data)

    def perform_destroy(self, instance):
        services.delete_location(location=instance)


class LotViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The lots (batches) of lot-tracked products; PATCH corrects an expiry."""

    queryset = Lot.objects.all()  # the model, for the permission check; see get_queryset
    serializer_class = LotSerializer
    permission_classes = STOCK_PERMISSIONS
    filterset_class = LotFilter
    search_fields = ["code", "product__sku", "product__name"]
    ordering_fields = ["expiration_date", "created_at", "code"]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        """With `is_expired` as of the organization's today (built per request: a queryset
        built once, at import, would keep the day the process started)."""
        return self.scoped(selectors.lots_with_state(today=local_today(self.organization)))

    def update(self, request, *args, **kwargs):
        lot = self.get_object()
        serializer = self.get_serializer(lot, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "expiration_date" in serializer.validated_data:
            services.update_lot(
                lot=lot, expiration_date=serializer.validated_data["expiration_date"]
            )
        return Response(self.get_serializer(self.get_queryset().get(pk=lot.pk)).data)


class StockLevelViewSet(OrganizationScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """One row per product, location and lot that holds or reserves stock."""

    queryset = selectors.held_levels()
    serializer_class = StockLevelSerializer
    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"list", "export"})
    permission_classes = STOCK_PERMISSIONS
    filterset_class = StockLevelFilter
    search_fields = ["product__sku", "product__name", "lot__code"]
    ordering_fields = ["quantity", "allocated"]

    @csv_action
    def export(self, request):
        """The same rows as the list, honouring its filters, streamed as CSV."""
        return exports.levels_csv_response(
            self.filter_queryset(self.get_queryset()), today=local_today(self.organization)
        )


class TransferViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Stock moved between two locations: the OUT and the IN, in one transaction."""

    queryset = selectors.transfers_with_details()
    serializer_class = TransferSerializer
    permission_classes = STOCK_PERMISSIONS
    filterset_fields = ["product", "from_location", "to_location"]
    search_fields = ["note"]
    ordering_fields = ["created_at", "number"]
    ordering = ["-created_at", "-id"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = services.transfer_stock(**serializer.validated_data, user=request.user)
        transfer = self.get_queryset().get(pk=transfer.pk)
        return Response(self.get_serializer(transfer).data, status=status.HTTP_201_CREATED)
