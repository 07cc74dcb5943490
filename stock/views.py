from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.exports import CSVRenderer
from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from stock import exports, selectors, services
from stock.filters import StockMovementFilter
from stock.serializers import StockMovementSerializer


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
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_class = StockMovementFilter
    search_fields = ["note", "reference", "product__sku", "product__name"]
    ordering_fields = ["created_at", "id", "quantity", "delta"]
    ordering = ["-created_at", "-id"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        movement = services.record_movement(
            product=data["product"],
            movement_type=data["movement_type"],
            quantity=data["quantity"],
            note=data.get("note", ""),
            user=request.user,
        )
        movement = self.get_queryset().get(pk=movement.pk)
        return Response(self.get_serializer(movement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV file")},
        filters=True,
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[renderers.JSONRenderer, CSVRenderer],
        pagination_class=None,
    )
    def export(self, request):
        """The same rows as the list, honouring its filters, streamed as CSV."""
        return exports.movements_csv_response(self.filter_queryset(self.get_queryset()))
