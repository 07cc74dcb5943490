from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action

from core.permissions import RolePermission
from core.tenancy import OrganizationScopedMixin
from orders.views import OrderViewSet
from sales import selectors, services
from sales.filters import CustomerReturnFilter, SalesOrderFilter
from sales.permissions import OWN_PRICE, SalesRepLimits, sets_own_prices
from sales.serializers import CustomerReturnSerializer, SalesOrderSerializer
from users.permissions import is_sales_rep


class SalesOrderViewSet(OrderViewSet):
    """Customers' orders; reaching `fulfilled` takes every line out of stock, or none."""

    queryset = selectors.sales_orders_with_totals()
    serializer_class = SalesOrderSerializer
    filterset_class = SalesOrderFilter
    search_fields = ["customer_name", "customer_email"]
    ordering_fields = ["created_at", "fulfilled_at", "number", "status"]
    permission_classes = [permissions.IsAuthenticated, RolePermission, SalesRepLimits]

    def check_changes(self, request, changes: dict) -> None:
        if is_sales_rep(request) and sets_own_prices(changes.get("items") or []):
            self.permission_denied(request, message=OWN_PRICE)

    def create_order(self, user, data):
        return services.create_sales_order(organization=user.organization, user=user, **data)

    def as_written(self, order):
        return selectors.sales_order_as_written(order)

    def update_order(self, order, user, data):
        return services.update_sales_order(order=order, user=user, **data)

    @extend_schema(responses=CustomerReturnSerializer(many=True), methods=["GET"])
    @extend_schema(
        request=CustomerReturnSerializer,
        responses={201: CustomerReturnSerializer},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], serializer_class=CustomerReturnSerializer)
    def returns(self, request, pk=None):
        """GET: the order's customer returns. POST: record goods a customer brought back."""
        return self.documents(
            request,
            serializer_class=CustomerReturnSerializer,
            of=lambda order: selectors.customer_returns(sales_order=order),
            record=services.record_customer_return,
            also=("restock",),
        )


class CustomerReturnViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Every customer return of the organization, newest first."""

    queryset = selectors.customer_returns()
    serializer_class = CustomerReturnSerializer
    # Read from the read replica when there is one (core.api.HeavyReadsMixin).
    heavy_actions = frozenset({"list"})
    filterset_class = CustomerReturnFilter
    permission_classes = [permissions.IsAuthenticated, RolePermission]
    ordering_fields = ["created_at", "number"]
    ordering = ["-created_at", "-id"]
