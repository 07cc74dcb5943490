from rest_framework import permissions

from core.permissions import RolePermission
from orders.views import OrderViewSet
from sales import selectors, services
from sales.filters import SalesOrderFilter
from sales.permissions import OWN_PRICE, SalesRepLimits, sets_own_prices
from sales.serializers import SalesOrderSerializer
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

    def update_order(self, order, user, changes):
        return services.update_sales_order(order=order, user=user, changes=changes)
