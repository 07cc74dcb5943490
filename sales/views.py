from config.orders import OrderViewSet
from sales import selectors, services
from sales.filters import SalesOrderFilter
from sales.serializers import SalesOrderSerializer


class SalesOrderViewSet(OrderViewSet):
    """Customers' orders; reaching `fulfilled` takes every line out of stock, or none."""

    queryset = selectors.sales_orders_with_totals()
    serializer_class = SalesOrderSerializer
    filterset_class = SalesOrderFilter
    search_fields = ["customer_name", "customer_email"]
    ordering_fields = ["created_at", "fulfilled_at", "number", "status"]
    create_order = staticmethod(services.create_sales_order)
    update_order = staticmethod(services.update_sales_order)
    delete_order = staticmethod(services.delete_sales_order)
