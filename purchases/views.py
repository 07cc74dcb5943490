from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from purchases import selectors, services
from purchases.filters import PurchaseOrderFilter
from purchases.serializers import PurchaseOrderSerializer
from users.permissions import RolePermission
from users.tenancy import OrganizationScopedMixin


class PurchaseOrderViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Orders to suppliers; reaching `received` adds their lines to stock once."""

    queryset = selectors.purchase_orders_with_totals()
    serializer_class = PurchaseOrderSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_class = PurchaseOrderFilter
    search_fields = ["notes", "supplier__name"]
    ordering_fields = ["created_at", "expected_date", "received_at", "number", "status"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _answer(self, order, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.create_purchase_order(
            organization=request.user.organization, user=request.user, **serializer.validated_data
        )
        return self._answer(order, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = self.get_serializer(order, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        order = services.update_purchase_order(
            order=order, user=request.user, changes=serializer.validated_data
        )
        return self._answer(order)

    def perform_destroy(self, instance):
        services.delete_purchase_order(order=instance)
