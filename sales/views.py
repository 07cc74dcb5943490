from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from sales import selectors, services
from sales.filters import SalesOrderFilter
from sales.serializers import SalesOrderSerializer
from users.permissions import RolePermission
from users.tenancy import OrganizationScopedMixin


class SalesOrderViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Customers' orders; reaching `fulfilled` takes every line out of stock, or none."""

    queryset = selectors.sales_orders_with_totals()
    serializer_class = SalesOrderSerializer
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    filterset_class = SalesOrderFilter
    search_fields = ["customer_name", "customer_email"]
    ordering_fields = ["created_at", "fulfilled_at", "number", "status"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _answer(self, order, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.create_sales_order(
            organization=request.user.organization, user=request.user, **serializer.validated_data
        )
        return self._answer(order, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = self.get_serializer(order, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        order = services.update_sales_order(
            order=order, user=request.user, changes=serializer.validated_data
        )
        return self._answer(order)

    def perform_destroy(self, instance):
        services.delete_sales_order(order=instance)
